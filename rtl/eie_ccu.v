// Central control unit: walks the input activations of a layer and broadcasts each non-zero one
// with its column index to every PE, then the bias column, and tells when the layer is done.
//
// Activations live in the PEs' source register files: slot j = i*N + k is local index i of PE k.
// The CCU reads group i (local index i of every PE at once, rd_en/rd_addr, data one cycle later
// on rd_data), masks slots >= n_in, and a leading non-zero detection tree (eie_lnzd_tree: an LNZD
// node per four PEs) picks the lowest pending non-zero slot each cycle. The next group is read
// while the current one is being broadcast, and all-zero groups are dropped, so a steady stream
// of one broadcast a cycle is kept. After the last group the bias column n_in is broadcast with
// activation bias_act (when has_bias and bias_act is non-zero).
// Non-zero: any bit set (LOG_ACT = 0, linear activations), or the zero flag clear (LOG_ACT = 1:
// log activations packed {sign, zero, exp}, the flag is bit ACT_W - 2; MUL = 2).
// stall (any PE's activation queue full) holds the broadcast. done is a one-cycle pulse once
// everything is broadcast and every PE is idle (queues empty, pipelines drained); the CCU then
// waits for the next start. halt stops it at once.
`default_nettype none

module eie_ccu #(
    parameter N       = 4,
    parameter LOG_ACT = 0,
    parameter ACT_W   = 16,
    parameter COL_W   = 16,
    parameter ACT_AW  = 6
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               start,
    input  wire               halt,
    input  wire [COL_W-1:0]   n_in,
    input  wire               has_bias,
    input  wire [ACT_W-1:0]   bias_act,
    // source register files of the PEs
    output wire               rd_en,
    output wire [ACT_AW-1:0]  rd_addr,
    input  wire [N*ACT_W-1:0] rd_data,
    // broadcast
    input  wire               stall,
    input  wire               pe_idle,
    output wire               bcast,
    output wire [ACT_W-1:0]   bcast_act,
    output wire [COL_W-1:0]   bcast_col,
    output wire               active_o,
    output wire               done
);
    localparam IDX_W = 6;

    function nonzero(input [ACT_W-1:0] act);
        nonzero = LOG_ACT ? !act[ACT_W-2] : (act != {ACT_W{1'b0}});
    endfunction

    reg               active;
    // read stage: the group whose register-file read was issued last cycle
    reg [ACT_AW-1:0]  ra;        // next group to read
    reg [COL_W:0]     ra_base;   // ra * N
    reg               r_valid;
    reg [COL_W:0]     r_base;
    // current group being broadcast
    reg [N*ACT_W-1:0] cur_val;
    reg [N-1:0]       cur_pend;
    reg [COL_W-1:0]   cur_base;
    reg               bias_sent;

    // ---- read stage: mask slots past n_in, flag non-zero activations -----------------------
    wire [COL_W:0] r_lim = {1'b0, n_in} - r_base;   // slots of this group inside the layer
    reg  [N-1:0]   r_nz;
    always @(*) begin : p_r_nz
        integer k;
        for (k = 0; k < N; k = k + 1)
            r_nz[k] = nonzero(rd_data[k*ACT_W +: ACT_W]) && (k < r_lim);
    end

    // ---- leading non-zero detection over the current group ---------------------------------
    wire             lnz_any;
    wire [IDX_W-1:0] lnz_idx;
    wire [ACT_W-1:0] lnz_val;
    eie_lnzd_tree #(.N(N), .DATA_W(ACT_W), .IDX_W(IDX_W)) u_lnzd (
        .nz(cur_pend), .din(cur_val), .any(lnz_any), .idx(lnz_idx), .dout(lnz_val));

    wire [N-1:0] pend_after = cur_pend & (cur_pend - 1'b1);   // lowest pending slot sent
    wire         cur_fire   = active && lnz_any && !stall;
    wire         cur_free   = !lnz_any || (cur_fire && pend_after == {N{1'b0}});
    wire         r_zero     = r_nz == {N{1'b0}};
    wire         r_take     = r_valid && (r_zero || cur_free);
    wire         more       = ra_base < {1'b0, n_in};
    assign rd_en   = active && more && (!r_valid || r_take);
    assign rd_addr = ra;

    wire walked    = active && !more && !r_valid && !lnz_any;
    wire bias_nz   = nonzero(bias_act);
    wire bias_fire = walked && has_bias && bias_nz && !bias_sent && !stall;
    wire bias_done = bias_sent || !has_bias || !bias_nz;
    assign done     = walked && bias_done && pe_idle;
    assign active_o = active;

    assign bcast     = cur_fire || bias_fire;
    assign bcast_act = cur_fire ? lnz_val : bias_act;
    wire [COL_W-1:0] col_w = cur_base + {{(COL_W - IDX_W){1'b0}}, lnz_idx};
    assign bcast_col = cur_fire ? col_w : n_in;

    always @(posedge clk) begin
        if (rst || halt) begin
            active    <= 1'b0;
            ra        <= {ACT_AW{1'b0}};
            ra_base   <= {(COL_W + 1){1'b0}};
            r_valid   <= 1'b0;
            r_base    <= {(COL_W + 1){1'b0}};
            cur_val   <= {(N * ACT_W){1'b0}};
            cur_pend  <= {N{1'b0}};
            cur_base  <= {COL_W{1'b0}};
            bias_sent <= 1'b0;
        end else if (start) begin
            active    <= 1'b1;
            ra        <= {ACT_AW{1'b0}};
            ra_base   <= {(COL_W + 1){1'b0}};
            r_valid   <= 1'b0;
            cur_pend  <= {N{1'b0}};
            bias_sent <= 1'b0;
        end else begin
            if (done) active <= 1'b0;
            if (bias_fire) bias_sent <= 1'b1;
            if (rd_en) begin
                ra      <= ra + 1'b1;
                ra_base <= ra_base + N[COL_W:0];
                r_base  <= ra_base;
            end
            if (rd_en)       r_valid <= 1'b1;
            else if (r_take) r_valid <= 1'b0;
            if (r_take && !r_zero) begin
                cur_val  <= rd_data;
                cur_pend <= r_nz;
                cur_base <= r_base[COL_W-1:0];
            end else if (cur_fire) begin
                cur_pend <= pend_after;
            end
        end
    end
endmodule

`default_nettype wire
