// Formal harnesses of leading non-zero detection (rtl/eie_lnzd_node.v, rtl/eie_lnzd_tree.v):
// combinational, so one step with every input free covers every input pattern.
// For each unit: any == |nz; with any set the index names a set flag, no lower flag is set
// (the lowest one: none skipped, and being a function of nz, the same one every time) and
// the payload is that input's; with no flag set index and payload are 0.
`default_nettype none

module fv_eie_lnzd_node #(
    parameter DATA_W = 16
) (
    input wire [3:0]          nz,
    input wire [4*DATA_W-1:0] din
);
    wire              any;
    wire [1:0]        sel;
    wire [DATA_W-1:0] dout;

    eie_lnzd_node #(.DATA_W(DATA_W)) dut (.nz(nz), .din(din), .any(any), .sel(sel), .dout(dout));

    wire [3:0] below = (4'd1 << sel) - 4'd1;   // flags under the selected one
    always @(*) begin
        assert(any == |nz);
        if (any) begin
            assert(nz[sel]);
            assert((nz & below) == 4'd0);
            assert(dout == din[sel*DATA_W +: DATA_W]);
        end else begin
            assert(sel == 2'd0);
            assert(dout == {DATA_W{1'b0}});
        end
    end
endmodule

module fv_eie_lnzd_tree #(
    parameter N      = 4,
    parameter DATA_W = 8,
    parameter IDX_W  = 6
) (
    input wire [N-1:0]        nz,
    input wire [N*DATA_W-1:0] din
);
    wire              any;
    wire [IDX_W-1:0]  idx;
    wire [DATA_W-1:0] dout;

    eie_lnzd_tree #(.N(N), .DATA_W(DATA_W), .IDX_W(IDX_W)) dut (
        .nz(nz), .din(din), .any(any), .idx(idx), .dout(dout));

    // flags under the selected one (N + 1 bits: idx may be N - 1 = 63 with N = 64)
    wire [N:0] below = ({{N{1'b0}}, 1'b1} << idx) - 1'b1;
    always @(*) begin
        assert(any == |nz);
        if (any) begin
            assert(idx < N);
            assert(nz[idx]);
            assert((nz & below[N-1:0]) == {N{1'b0}});
            assert(dout == din[idx*DATA_W +: DATA_W]);
        end else begin
            assert(idx == {IDX_W{1'b0}});
            assert(dout == {DATA_W{1'b0}});
        end
    end
endmodule

// The tree at N = 1, 3, 4, 5, 16, 17 and 64: one, two and three node levels, full and partly
// filled leaf groups.
module fv_eie_lnzd_trees;
    genvar i;
    generate
        for (i = 0; i < 7; i = i + 1) begin : g_n
            localparam integer N = i == 0 ? 1 : i == 1 ? 3 : i == 2 ? 4 : i == 3 ? 5
                                 : i == 4 ? 16 : i == 5 ? 17 : 64;
            (* anyseq *) wire [N-1:0]   nz;
            (* anyseq *) wire [N*8-1:0] din;
            fv_eie_lnzd_tree #(.N(N), .DATA_W(8)) u_tree (.nz(nz), .din(din));
        end
    endgenerate
endmodule

`default_nettype wire
