// Arithmetic unit of one PE: destination address accumulation, codebook lookup, multiply and
// accumulate, with a bypass for back-to-back updates of the same accumulator.
//
// Pipeline (one entry a cycle, no stall):
//   A0  input entry (v, z, first, act): row = first ? z : row_prev + 1 + z; checks v < n_codes
//       (err_code) and row < rows (err_row); codebook read at {layer, v}.
//   A1  codebook entry ready: product = act * weight (MUL = 0: 16x16 linear, rtl/mul_lin.v;
//       MUL = 1: 16-bit activation x log weight, a shift, rtl/mul_lin_log.v with the entry packed
//       {sign, zero, exp}, EXP_W = 4; MUL = 2: log activation packed {sign, zero, exp} in
//       ACT_W = EA + 2 bits x log weight, an exponent add and decode, rtl/mul_log_log.v, a
//       product of 2**EA + 16 bits); accumulator read at row.
//   A2  acc[row] <= saturate(base + product, ACC_W), base = the value written in the previous
//       cycle when that write went to the same row (bypass: the synchronous read issued in A1
//       could not see it), else the memory word when the row was written in this layer, else 0.
// A bad entry sets err_code / err_row (sticky until flush or rst) and is dropped.
// clear forgets every accumulator (valid bits) at the start of a layer.
// Read-back port for the activation write-back: wb_en/wb_addr, wb_data one cycle later (0 for a
// row not written in this layer); only while the pipeline is empty.
// Memories: codebook CB_DEPTH x 16 (16 words a layer) and accumulators ACC_DEPTH x ACC_W, both
// synchronous read; the codebook is written from the load port (or loaded by eie_pe from an image).
`default_nettype none

module eie_arith #(
    parameter MUL       = 1,     // 0 linear 16x16, 1 log-domain shift, 2 log x log
    parameter EA        = 4,     // MUL = 2: exponent bits of a log activation, 3..5
    parameter ACT_W     = 16,    // 16 (MUL 0, 1) or EA + 2 (MUL 2)
    parameter ACC_W     = 48,
    parameter ACC_DEPTH = 64,    // rows per PE
    parameter ACC_AW    = 6,     // >= clog2(ACC_DEPTH), >= 1
    parameter CB_AW     = 7      // codebook address: {layer, v}; CB_AW >= 5
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    flush,
    input  wire                    clear,
    // load port: codebook word
    input  wire                    ld_en,
    input  wire [CB_AW-1:0]        ld_addr,
    input  wire [15:0]             ld_data,
    // layer
    input  wire [CB_AW-5:0]        layer,
    input  wire [4:0]              n_codes,   // codes in use: v must be < n_codes
    input  wire [15:0]             rows,      // rows of this layer in a PE
    // entries from the sparse-matrix read unit
    input  wire                    e_valid,
    input  wire [3:0]              e_v,
    input  wire [3:0]              e_z,
    input  wire                    e_first,
    input  wire [ACT_W-1:0]        e_act,
    // write-back read port
    input  wire                    wb_en,
    input  wire [ACC_AW-1:0]       wb_addr,
    output wire signed [ACC_W-1:0] wb_data,
    // status
    output wire                    pad,       // a padding entry (v = 0) entered the pipeline
    output wire                    idle,
    output reg                     err_code,
    output reg                     err_row
);
    localparam P_W = (MUL == 2) ? (1 << EA) + 16 : 32;   // product bits (16 + 16 linear)

    reg [15:0]      cb  [0:(1 << CB_AW)-1];
    reg [ACC_W-1:0] acc [0:ACC_DEPTH-1];
    reg [ACC_DEPTH-1:0] acc_vld;

    // ---- A0: address accumulation, checks, codebook read ---------------------------------
    reg  [15:0] row_prev;
    wire [15:0] row      = e_first ? {12'd0, e_z} : row_prev + 16'd1 + {12'd0, e_z};
    wire        bad_code = {1'b0, e_v} >= n_codes;
    wire        bad_row  = row >= rows;
    wire        a0_ok    = e_valid && !bad_code && !bad_row && !err_code && !err_row;
    assign pad = e_valid && (e_v == 4'd0);

    reg              a1_valid;
    reg [ACC_AW-1:0] a1_row;
    reg [ACT_W-1:0]  a1_act;
    reg [15:0]       cb_rd;

    always @(posedge clk) begin
        if (ld_en) cb[ld_addr] <= ld_data;
        if (e_valid) cb_rd <= cb[{layer, e_v}];
    end

    // ---- A1: multiply, accumulator read ----------------------------------------------------
    wire signed [P_W-1:0] prod;
    generate
        if (MUL == 0) begin : g_lin
            mul_lin #(.ACT_W(ACT_W), .WGT_W(16)) u_mul (.act(a1_act), .wgt(cb_rd), .prod(prod));
        end else if (MUL == 1) begin : g_log
            mul_lin_log #(.ACT_W(ACT_W), .EXP_W(4)) u_mul (
                .act(a1_act), .w_sign(cb_rd[5]), .w_zero(cb_rd[4]), .w_exp(cb_rd[3:0]),
                .prod(prod));
            wire unused_cb = &{1'b0, cb_rd[15:6]};
        end else if (MUL == 2) begin : g_loglog
            mul_log_log #(.EXP_W(4), .A_EXP_W(EA)) u_mul (
                .a_sign(a1_act[EA+1]), .a_zero(a1_act[EA]), .a_exp(a1_act[EA-1:0]),
                .w_sign(cb_rd[5]), .w_zero(cb_rd[4]), .w_exp(cb_rd[3:0]), .prod(prod));
            wire unused_cb = &{1'b0, cb_rd[15:6]};
        end else begin : g_bad
            eie_arith_parameter_error_MUL_must_be_0_1_or_2 u_error ();
        end
        if (ACT_W != ((MUL == 2) ? EA + 2 : 16) || (MUL == 2 && (EA < 3 || EA > 5))
            || ACC_W < P_W) begin : g_bad_w
            eie_arith_parameter_error_widths u_error ();
        end
    endgenerate

    wire [ACC_AW-1:0] rd_addr = wb_en ? wb_addr : a1_row;
    reg  [ACC_W-1:0]  acc_rd;
    reg               rd_vld;

    reg                    a2_valid;
    reg [ACC_AW-1:0]       a2_row;
    reg signed [P_W-1:0]   a2_prod;

    // ---- A2: accumulate with bypass, write -------------------------------------------------
    reg                    lw_valid;   // last cycle's write
    reg [ACC_AW-1:0]       lw_row;
    reg signed [ACC_W-1:0] lw_data;

    wire                    bypass = lw_valid && (lw_row == a2_row);
    wire signed [ACC_W-1:0] base   = bypass ? lw_data : (rd_vld ? acc_rd : {ACC_W{1'b0}});
    wire signed [ACC_W:0]   sum    = {base[ACC_W-1], base}
                                   + {{(ACC_W + 1 - P_W){a2_prod[P_W-1]}}, a2_prod};
    wire                    ovf    = sum[ACC_W] != sum[ACC_W-1];
    wire signed [ACC_W-1:0] sum_sat = !ovf ? sum[ACC_W-1:0]
                                    : {sum[ACC_W], {(ACC_W - 1){~sum[ACC_W]}}};

    always @(posedge clk) begin
        if (a2_valid) acc[a2_row] <= sum_sat;
        if (wb_en || a1_valid) acc_rd <= acc[rd_addr];
    end

    always @(posedge clk) begin
        if (rst || flush) begin
            row_prev <= 16'd0;
            a1_valid <= 1'b0;
            a1_row   <= {ACC_AW{1'b0}};
            a1_act   <= {ACT_W{1'b0}};
            a2_valid <= 1'b0;
            a2_row   <= {ACC_AW{1'b0}};
            a2_prod  <= {P_W{1'b0}};
            lw_valid <= 1'b0;
            lw_row   <= {ACC_AW{1'b0}};
            lw_data  <= {ACC_W{1'b0}};
            rd_vld   <= 1'b0;
            acc_vld  <= {ACC_DEPTH{1'b0}};
            err_code <= 1'b0;
            err_row  <= 1'b0;
        end else begin
            if (e_valid) row_prev <= row;
            if (e_valid && bad_code) err_code <= 1'b1;
            if (e_valid && !bad_code && bad_row) err_row <= 1'b1;
            a1_valid <= a0_ok;
            a1_row   <= row[ACC_AW-1:0];
            a1_act   <= e_act;
            a2_valid <= a1_valid;
            a2_row   <= a1_row;
            a2_prod  <= prod;
            if (wb_en || a1_valid) rd_vld <= acc_vld[rd_addr];
            lw_valid <= a2_valid;
            lw_row   <= a2_row;
            lw_data  <= sum_sat;
            if (clear)         acc_vld <= {ACC_DEPTH{1'b0}};
            else if (a2_valid) acc_vld[a2_row] <= 1'b1;
        end
    end

    assign wb_data = rd_vld ? acc_rd : {ACC_W{1'b0}};
    assign idle    = !a1_valid && !a2_valid;
endmodule

`default_nettype wire
