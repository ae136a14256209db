// Formal harness of the pointer read unit (rtl/eie_ptr_read.v), at its ports only.
//
// The pointer table is whatever the load port wrote: the harness follows one word f_addr
// (anyconst, so every word is covered) and the value last loaded into it. Any ptr_base (even),
// any column whose words w = ptr_base + col and w + 1 lie in the table (eie_top rejects larger
// layers with ERR_SIZE), any queue and ready pattern, loads at any time. Checked:
//   - the head is popped exactly when the output register is free or being taken;
//   - each pop gives one output (p_valid) that holds, unchanged, until p_ready;
//   - the output carries the popped activation and column, p_start = p[col] = word w and
//     p_end = p[col + 1] = word w + 1 as they were when the head was popped (whichever bank
//     each sits in);
//   - err_order and err_range flag exactly p_end < p_start and p_end > SPM_ENTRIES.
`default_nettype none

module fv_eie_ptr_read #(
    parameter PTR_W       = 4,
    parameter PTR_DEPTH   = 4,
    parameter ACT_W       = 2,
    parameter COL_W       = 4,
    parameter SPM_ENTRIES = 10,
    parameter PTR_AW      = $clog2(2 * PTR_DEPTH)   // derived, as in eie_top
) (
    input wire              clk,
    input wire              rst,
    input wire              flush,
    input wire              ld_en,
    input wire [PTR_AW-1:0] ld_addr,
    input wire [PTR_W-1:0]  ld_data,
    input wire [PTR_AW-1:0] ptr_base,
    input wire              q_valid,
    input wire [ACT_W-1:0]  q_act,
    input wire [COL_W-1:0]  q_col,
    input wire              p_ready
);
    localparam WORDS = 2 * PTR_DEPTH;

    wire             q_pop;
    wire             p_valid;
    wire [PTR_W-1:0] p_start;
    wire [PTR_W-1:0] p_end;
    wire [ACT_W-1:0] p_act;
    wire [COL_W-1:0] p_col;
    wire             err_order;
    wire             err_range;

    eie_ptr_read #(.PTR_W(PTR_W), .PTR_DEPTH(PTR_DEPTH), .PTR_AW(PTR_AW), .ACT_W(ACT_W),
                   .COL_W(COL_W), .SPM_ENTRIES(SPM_ENTRIES)) dut (
        .clk(clk), .rst(rst), .flush(flush),
        .ld_en(ld_en), .ld_addr(ld_addr), .ld_data(ld_data), .ptr_base(ptr_base),
        .q_valid(q_valid), .q_act(q_act), .q_col(q_col), .q_pop(q_pop),
        .p_valid(p_valid), .p_start(p_start), .p_end(p_end), .p_act(p_act), .p_col(p_col),
        .p_ready(p_ready), .err_order(err_order), .err_range(err_range));

    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    // ---- the layer's contract --------------------------------------------------------------
    wire [COL_W+PTR_AW:0] f_w = ptr_base + q_col;   // word of p[col], no wrap-around
    always @(*) begin
        assume(!ptr_base[0]);
        if (q_valid) assume(f_w + 1 < WORDS);
    end

    // ---- one followed pointer word ---------------------------------------------------------
    (* anyconst *) reg [PTR_AW-1:0] f_addr;
    reg             f_known = 1'b0;   // f_addr has been loaded
    reg [PTR_W-1:0] f_val;
    always @(posedge clk) begin
        if (ld_en && ld_addr == f_addr) begin
            f_known <= 1'b1;
            f_val   <= ld_data;
        end
    end

    // ---- expected output register -----------------------------------------------------------
    reg             f_pend = 1'b0;
    reg [ACT_W-1:0] f_act;
    reg [COL_W-1:0] f_col;
    reg             f_lo;       // the followed word is p[col]
    reg             f_hi;       // the followed word is p[col + 1]
    reg [PTR_W-1:0] f_snap;     // its value when the head was popped
    always @(posedge clk) begin
        if (rst || flush) begin
            f_pend <= 1'b0;
        end else if (q_pop) begin
            f_pend <= 1'b1;
            f_act  <= q_act;
            f_col  <= q_col;
            f_lo   <= f_known && f_w == f_addr;
            f_hi   <= f_known && f_w + 1 == f_addr;
            f_snap <= f_val;
        end else if (p_ready) begin
            f_pend <= 1'b0;
        end
    end

    always @(*) begin
        assert(q_pop == (q_valid && (!p_valid || p_ready)));
        if (f_past_valid) begin
            assert(p_valid == f_pend);
            if (p_valid) begin
                assert(p_act == f_act && p_col == f_col);
                if (f_lo) assert(p_start == f_snap);
                if (f_hi) assert(p_end == f_snap);
            end
            assert(err_order == (p_valid && p_end < p_start));
            assert(err_range == (p_valid && p_end > SPM_ENTRIES));
        end
    end

    // held until taken: valid and unchanged
    always @(posedge clk) begin
        if (f_past_valid && $past(p_valid && !p_ready && !rst && !flush)) begin
            assert(p_valid);
            assert($stable(p_start) && $stable(p_end) && $stable(p_act) && $stable(p_col));
        end
    end
endmodule

`default_nettype wire
