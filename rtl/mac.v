// Multiply-accumulate unit around one of three multipliers (parameter MUL):
//   0 LINLIN  linear activation a (ACT_W, signed) x linear weight w (WGT_W): the conventional
//             reference the shift multipliers are measured against
//   1 LINLOG  linear activation a (ACT_W) x log weight w ({sign, zero, exp}, EXP_W+2 bits)
//   2 LOGLOG  log activation a ({sign, zero, exp}) x log weight w ({sign, zero, exp})
//
// Accumulator (registered, synchronous active-high reset):
//   acc <= saturate((clr ? 0 : acc) + (en ? prod : 0), ACC_W)
//   acc_ovf is sticky: set when the accumulator saturated, cleared by clr or rst.
// Output stage (combinational from acc): y = saturate(round_shift(acc, shift), OUT_W), where
//   round_shift divides by 2**shift rounding to nearest, ties away from zero; y_sat flags a
//   saturated output.
// Golden model: models.fixedpoint (mac_step, requantize), the same code the tests compare to.
`default_nettype none

module mac (clk, rst, clr, en, a, w, shift, acc, acc_ovf, y, y_sat);
    parameter MUL     = 1;  // 0 LINLIN, 1 LINLOG, 2 LOGLOG
    parameter ACT_W   = 16;
    parameter EXP_W   = 3;
    parameter WGT_W   = 8;
    parameter ACC_W   = 32;
    parameter OUT_W   = 16;
    parameter SHIFT_W = 5;

    localparam LOG_W = EXP_W + 2;
    localparam A_W   = (MUL == 2) ? LOG_W : ACT_W;
    localparam W_W   = (MUL == 0) ? WGT_W : LOG_W;
    localparam P_W   = (MUL == 2) ? (2 << EXP_W)
                     : (MUL == 0) ? ACT_W + WGT_W
                     :                     ACT_W + (1 << EXP_W);
    localparam RW    = ACC_W + 1;  // rounding adder: one bit more than the accumulator

    input  wire                      clk;
    input  wire                      rst;
    input  wire                      clr;
    input  wire                      en;
    input  wire        [A_W-1:0]     a;
    input  wire        [W_W-1:0]     w;
    input  wire        [SHIFT_W-1:0] shift;
    output reg  signed [ACC_W-1:0]   acc;
    output reg                       acc_ovf;
    output reg  signed [OUT_W-1:0]   y;
    output reg                       y_sat;

    // ---- multiplier -----------------------------------------------------------------------
    wire signed [P_W-1:0]   prod;
    wire signed [ACC_W-1:0] prod_x;  // prod sign-extended to the accumulator
    generate
        if (ACC_W < P_W) begin : g_bad_acc_w
            mac_parameter_error_ACC_W_narrower_than_product u_error ();
        end else if (ACC_W > P_W) begin : g_prod_ext
            assign prod_x = {{(ACC_W - P_W){prod[P_W-1]}}, prod};
        end else begin : g_prod_fit
            assign prod_x = prod;
        end
        if (MUL == 2) begin : g_loglog
            mul_log_log #(.EXP_W(EXP_W)) u_mul (
                .a_sign(a[LOG_W-1]), .a_zero(a[EXP_W]), .a_exp(a[EXP_W-1:0]),
                .w_sign(w[LOG_W-1]), .w_zero(w[EXP_W]), .w_exp(w[EXP_W-1:0]),
                .prod(prod));
        end else if (MUL == 0) begin : g_linlin
            mul_lin #(.ACT_W(ACT_W), .WGT_W(WGT_W)) u_mul (
                .act(a), .wgt(w), .prod(prod));
        end else if (MUL == 1) begin : g_linlog
            mul_lin_log #(.ACT_W(ACT_W), .EXP_W(EXP_W)) u_mul (
                .act(a), .w_sign(w[LOG_W-1]), .w_zero(w[EXP_W]), .w_exp(w[EXP_W-1:0]),
                .prod(prod));
        end else begin : g_bad_mul
            mac_parameter_error_MUL_must_be_0_1_or_2 u_error ();
        end
    endgenerate

    // ---- saturating accumulator -----------------------------------------------------------
    wire signed [ACC_W-1:0] acc_base = clr ? {ACC_W{1'b0}} : acc;
    wire signed [ACC_W-1:0] addend   = en ? prod_x : {ACC_W{1'b0}};
    wire signed [ACC_W:0]   sum      = {acc_base[ACC_W-1], acc_base} + {addend[ACC_W-1], addend};
    wire                    sum_ovf  = sum[ACC_W] != sum[ACC_W-1];
    wire signed [ACC_W-1:0] sum_sat  = !sum_ovf ? sum[ACC_W-1:0]
                                     : {sum[ACC_W], {(ACC_W - 1){~sum[ACC_W]}}};

    always @(posedge clk) begin
        if (rst) begin
            acc     <= {ACC_W{1'b0}};
            acc_ovf <= 1'b0;
        end else begin
            acc     <= sum_sat;
            acc_ovf <= (clr ? 1'b0 : acc_ovf) | sum_ovf;
        end
    end

    // ---- output stage: range shift, round half away from zero, saturate ------------------
    // bias = 2**(shift-1) - (acc < 0) for shift > 0, else 0; a shift beyond ACC_W gives 0.
    wire signed [RW-1:0] one     = {{(RW - 1){1'b0}}, 1'b1};
    wire signed [RW-1:0] acc_x   = {acc[ACC_W-1], acc};
    wire                 no_rnd  = (shift == {SHIFT_W{1'b0}});
    wire        [31:0]   shift32 = {{(32 - SHIFT_W){1'b0}}, shift};
    wire                 too_far = shift32 > ACC_W;
    wire signed [RW-1:0] half    = no_rnd ? {RW{1'b0}}
                                 : (one <<< (shift - {{(SHIFT_W - 1){1'b0}}, 1'b1}));
    wire signed [RW-1:0] bias    = no_rnd ? {RW{1'b0}} : half - {{(RW - 1){1'b0}}, acc[ACC_W-1]};
    // The arithmetic shift has its own signed wire: inside a ?: with an unsigned operand,
    // >>> would turn into a logical shift.
    wire signed [RW-1:0] biased  = acc_x + bias;
    wire signed [RW-1:0] shifted = biased >>> shift;
    wire signed [RW-1:0] rnd     = too_far ? {RW{1'b0}} : shifted;

    generate
        if (OUT_W > RW) begin : g_out_wide
            always @(*) begin
                y     = {{(OUT_W - RW){rnd[RW-1]}}, rnd};
                y_sat = 1'b0;
            end
        end else begin : g_out_narrow
            // In range when the bits above the output's sign bit all copy the sign.
            wire [RW-OUT_W:0] top = rnd[RW-1:OUT_W-1];
            wire              fit = (top == {(RW - OUT_W + 1){1'b0}})
                                 || (top == {(RW - OUT_W + 1){1'b1}});
            always @(*) begin
                y_sat = !fit;
                if (fit)                y = rnd[OUT_W-1:0];
                else if (rnd[RW-1])     y = {1'b1, {(OUT_W - 1){1'b0}}};
                else                    y = {1'b0, {(OUT_W - 1){1'b1}}};
            end
        end
    endgenerate
endmodule

`default_nettype wire
