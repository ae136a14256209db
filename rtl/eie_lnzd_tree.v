// Leading non-zero detection tree over N inputs (N = 1..64): LNZD nodes of four inputs, one per
// group of four PEs at the leaves, then nodes over nodes up to the root. Finds the lowest index
// whose nz flag is set and its payload.
//   any   = |nz
//   idx   = lowest i with nz[i] (0 when none)
//   dout  = din[idx] (0 when none)
// Combinational (LEVELS = ceil(log4 N) node levels, at least one). Inputs beyond N read as 0.
`default_nettype none

module eie_lnzd_tree #(
    parameter N      = 4,
    parameter DATA_W = 16,
    parameter IDX_W  = 6    // >= 2 * LEVELS
) (
    input  wire [N-1:0]        nz,
    input  wire [N*DATA_W-1:0] din,
    output wire                any,
    output wire [IDX_W-1:0]    idx,
    output wire [DATA_W-1:0]   dout
);
    localparam LEVELS = (N <= 4) ? 1 : (N <= 16) ? 2 : (N <= 64) ? 3 : (N <= 256) ? 4 : 5;
    localparam LEAVES = 1 << (2 * LEVELS);
    localparam PW     = DATA_W + IDX_W;  // payload carried up the tree: {data, index}
    // Level l (0 = leaves) has 4**(LEVELS-l) entries; they sit in one flat array from entry
    // OFF(l) = sum_{m<l} 4**(LEVELS-m) = (4**(LEVELS+1) - 4**(LEVELS-l+1)) / 3.
    localparam TOTAL  = ((1 << (2 * (LEVELS + 1))) - 1) / 3;

    wire [TOTAL-1:0]    t_nz;
    wire [TOTAL*PW-1:0] t_pl;

    genvar l, j;
    generate
        if (N < 1 || N > 64 || IDX_W < 2 * LEVELS) begin : g_bad
            eie_lnzd_tree_parameter_error u_error ();
        end
        // leaves: input j with its own index as payload
        for (j = 0; j < LEAVES; j = j + 1) begin : g_leaf
            if (j < N) begin : g_in
                assign t_nz[j] = nz[j];
                assign t_pl[j*PW +: PW] = {din[j*DATA_W +: DATA_W], {IDX_W{1'b0}}};
            end else begin : g_pad
                assign t_nz[j] = 1'b0;
                assign t_pl[j*PW +: PW] = {PW{1'b0}};
            end
        end
        for (l = 1; l <= LEVELS; l = l + 1) begin : g_lvl
            localparam integer OFF_IN  = ((1 << (2 * (LEVELS + 1))) - (1 << (2 * (LEVELS - l + 2)))) / 3;
            localparam integer OFF_OUT = ((1 << (2 * (LEVELS + 1))) - (1 << (2 * (LEVELS - l + 1)))) / 3;
            localparam integer NODES   = 1 << (2 * (LEVELS - l));
            for (j = 0; j < NODES; j = j + 1) begin : g_node
                wire          n_any;
                wire [1:0]    n_sel;
                wire [PW-1:0] n_pl;
                eie_lnzd_node #(.DATA_W(PW)) u_node (
                    .nz  (t_nz[OFF_IN + 4*j +: 4]),
                    .din (t_pl[(OFF_IN + 4*j)*PW +: 4*PW]),
                    .any (n_any),
                    .sel (n_sel),
                    .dout(n_pl)
                );
                assign t_nz[OFF_OUT + j] = n_any;
                // the two index bits of this level go in at bit 2*(l-1)
                assign t_pl[(OFF_OUT + j)*PW +: PW] =
                    n_pl | ({{(PW - 2){1'b0}}, n_sel} << (2 * (l - 1)));
            end
        end
    endgenerate

    assign any  = t_nz[TOTAL-1];
    assign idx  = t_pl[(TOTAL-1)*PW +: IDX_W];
    assign dout = t_pl[(TOTAL-1)*PW + IDX_W +: DATA_W];
endmodule

`default_nettype wire
