// The processing element's read port contract, which the engine's result stream relies on
// (formal/eie_top.sv, with the abstract PE of formal/eie_pe_abstract.sv): rd_data is a
// registered read, so it changes only in the cycle after rd_en (or after rst). Proved here on
// the real PE (rtl/eie_pe.v) with every input free.
`default_nettype none

module fv_eie_pe #(
    parameter MUL       = 1,
    parameter QDEPTH    = 1,
    parameter PTR_W     = 5,
    parameter ACT_DEPTH = 2,
    parameter ACT_AW    = 1,
    parameter SPM_DEPTH = 2,
    parameter SPM_AW    = 1,
    parameter PTR_DEPTH = 2,
    parameter PTR_AW    = 2,
    parameter CB_AW     = 5,
    parameter CNT_W     = 4
) (
    input wire              clk,
    input wire              rst,
    input wire              flush,
    input wire              clear,
    input wire              count_en,
    input wire              cnt_clr,
    input wire              ld_spm,
    input wire              ld_ptr,
    input wire              ld_cb,
    input wire [23:0]       ld_addr,
    input wire [63:0]       ld_data,
    input wire [PTR_AW-1:0] ptr_base,
    input wire [CB_AW-5:0]  layer,
    input wire [4:0]        n_codes,
    input wire [15:0]       rows,
    input wire [5:0]        shift,
    input wire              relu,
    input wire              swap,
    input wire              push,
    input wire [15:0]       push_act,
    input wire [15:0]       push_col,
    input wire              in_we,
    input wire [ACT_AW-1:0] in_addr,
    input wire [15:0]       in_data,
    input wire              rd_en,
    input wire [ACT_AW-1:0] rd_addr,
    input wire              wb_en,
    input wire [ACT_AW-1:0] wb_addr
);
    wire [15:0]      rd_data;
    wire             q_full, idle, err_order, err_range, err_code, err_row;
    wire [CNT_W-1:0] cnt_busy, cnt_starved, cnt_pad;

    eie_pe #(.MUL(MUL), .ACT_W(16), .ACC_W(48), .COL_W(16), .QDEPTH(QDEPTH), .PTR_W(PTR_W),
             .PTR_DEPTH(PTR_DEPTH), .PTR_AW(PTR_AW), .SPM_DEPTH(SPM_DEPTH), .SPM_AW(SPM_AW),
             .ACT_DEPTH(ACT_DEPTH), .ACT_AW(ACT_AW), .CB_AW(CB_AW), .CNT_W(CNT_W)) dut (
        .clk(clk), .rst(rst), .flush(flush), .clear(clear), .count_en(count_en),
        .cnt_clr(cnt_clr), .ld_spm(ld_spm), .ld_ptr(ld_ptr), .ld_cb(ld_cb), .ld_addr(ld_addr),
        .ld_data(ld_data), .ptr_base(ptr_base), .layer(layer), .n_codes(n_codes), .rows(rows),
        .shift(shift), .relu(relu), .swap(swap), .push(push), .push_act(push_act),
        .push_col(push_col), .q_full(q_full), .in_we(in_we), .in_addr(in_addr),
        .in_data(in_data), .rd_en(rd_en), .rd_addr(rd_addr), .rd_data(rd_data),
        .wb_en(wb_en), .wb_addr(wb_addr), .idle(idle), .err_order(err_order),
        .err_range(err_range), .err_code(err_code), .err_row(err_row), .cnt_busy(cnt_busy),
        .cnt_starved(cnt_starved), .cnt_pad(cnt_pad));

    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;

    always @(posedge clk) begin
        if (f_past_valid && $past(!rd_en && !rst)) assert($stable(rd_data));
    end
endmodule

`default_nettype wire
