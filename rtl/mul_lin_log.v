// Linear activation x log weight: a conditional negate and an arithmetic left shift.
//   prod = w_zero ? 0 : ((w_sign ? -act : act) << w_exp)
// The product is exact: ACT_W + 2**EXP_W bits hold every result, including
// -(most negative act) << largest exponent. Golden model: models.fixedpoint.mul_lin_log.
`default_nettype none

module mul_lin_log #(
    parameter ACT_W = 16,
    parameter EXP_W = 3
) (
    input  wire signed [ACT_W-1:0]            act,
    input  wire                               w_sign,
    input  wire                               w_zero,
    input  wire        [EXP_W-1:0]            w_exp,
    output wire signed [ACT_W+(1<<EXP_W)-1:0] prod
);
    localparam P_W = ACT_W + (1 << EXP_W);

    // Negate first, on ACT_W+1 bits (the narrow operand: a short carry chain), then shift.
    wire signed [ACT_W:0] act_x = {act[ACT_W-1], act};
    wire signed [ACT_W:0] act_s = w_sign ? -act_x : act_x;
    wire signed [P_W-1:0] act_w = {{(P_W - ACT_W - 1){act_s[ACT_W]}}, act_s};

    assign prod = w_zero ? {P_W{1'b0}} : (act_w <<< w_exp);
endmodule

`default_nettype wire
