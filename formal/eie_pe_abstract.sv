// An abstract processing element for the proof of the engine's streams (formal/eie_top.sv):
// the parameters and ports of rtl/eie_pe.v, rd_data any new value in the cycle after rd_en or
// rst and held otherwise (the read port contract, proved on the real PE by formal/eie_pe.sv),
// every other output free in every cycle. The real PE behaves as one of its behaviours, so
// what holds for eie_top with it holds with the real PE. It replaces rtl/eie_pe.v there (the
// two are never read together) and must follow that file's ports.
`default_nettype none

module eie_pe #(
    parameter MUL       = 1,
    parameter EA        = 4,
    parameter ACT_W     = 16,
    parameter ACC_W     = 48,
    parameter COL_W     = 16,
    parameter QDEPTH    = 8,
    parameter PTR_W     = 16,
    parameter PTR_DEPTH = 256,
    parameter PTR_AW    = 9,
    parameter SPM_DEPTH = 1024,
    parameter SPM_AW    = 10,
    parameter ACT_DEPTH = 64,
    parameter ACT_AW    = 6,
    parameter CB_AW     = 7,
    parameter CNT_W     = 32,
    parameter PE_ID     = 0,
    parameter INIT_DIR  = ""
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              flush,
    input  wire              clear,
    input  wire              count_en,
    input  wire              cnt_clr,
    input  wire              ld_spm,
    input  wire              ld_ptr,
    input  wire              ld_cb,
    input  wire [23:0]       ld_addr,
    input  wire [63:0]       ld_data,
    input  wire [PTR_AW-1:0] ptr_base,
    input  wire [CB_AW-5:0]  layer,
    input  wire [4:0]        n_codes,
    input  wire [15:0]       rows,
    input  wire [5:0]        shift,
    input  wire              relu,
    input  wire              swap,
    input  wire              push,
    input  wire [ACT_W-1:0]  push_act,
    input  wire [COL_W-1:0]  push_col,
    output wire              q_full,
    input  wire              in_we,
    input  wire [ACT_AW-1:0] in_addr,
    input  wire [ACT_W-1:0]  in_data,
    input  wire              rd_en,
    input  wire [ACT_AW-1:0] rd_addr,
    output reg  [ACT_W-1:0]  rd_data,
    input  wire              wb_en,
    input  wire [ACT_AW-1:0] wb_addr,
    output wire              idle,
    output wire              err_order,
    output wire              err_range,
    output wire              err_code,
    output wire              err_row,
    output wire [CNT_W-1:0]  cnt_busy,
    output wire [CNT_W-1:0]  cnt_starved,
    output wire [CNT_W-1:0]  cnt_pad
);
    (* anyseq *) wire [ACT_W-1:0]   f_rd;
    (* anyseq *) wire [5:0]         f_status;
    (* anyseq *) wire [3*CNT_W-1:0] f_cnt;

    always @(posedge clk) if (rd_en || rst) rd_data <= f_rd;
    assign {q_full, idle, err_order, err_range, err_code, err_row} = f_status;
    assign {cnt_busy, cnt_starved, cnt_pad} = f_cnt;
endmodule

`default_nettype wire
