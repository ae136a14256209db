// Log activation x log weight: both operands are (sign, zero, exponent); the product is the
// signed power of two of the exponent sum, as a linear value: an adder and a one-hot decode.
//   prod = (a_zero | w_zero) ? 0 : (-1)**(a_sign ^ w_sign) * 2**(a_exp + w_exp)
// The exponents may differ in width (A_EXP_W activation, EXP_W weight; the engine's MUL = 2 has
// 4-bit weight exponents and EA-bit activation ones): 2**A_EXP_W + 2**EXP_W bits hold
// +2**((2**A_EXP_W - 1) + (2**EXP_W - 1)), i.e. 2**(EXP_W+1) bits for equal widths.
// Golden model: models.fixedpoint.mul_log_log.
`default_nettype none

module mul_log_log #(
    parameter EXP_W   = 3,
    parameter A_EXP_W = EXP_W
) (
    input  wire                                         a_sign,
    input  wire                                         a_zero,
    input  wire        [A_EXP_W-1:0]                    a_exp,
    input  wire                                         w_sign,
    input  wire                                         w_zero,
    input  wire        [EXP_W-1:0]                      w_exp,
    output wire signed [(1<<A_EXP_W)+(1<<EXP_W)-1:0]    prod
);
    localparam P_W = (1 << A_EXP_W) + (1 << EXP_W);
    localparam S_W = (A_EXP_W > EXP_W ? A_EXP_W : EXP_W) + 1;   // exponent sum

    wire [S_W-1:0] e_sum  = {{(S_W - A_EXP_W){1'b0}}, a_exp} + {{(S_W - EXP_W){1'b0}}, w_exp};
    wire [P_W-1:0] onehot = {{(P_W - 1){1'b0}}, 1'b1} << e_sum;

    assign prod = (a_zero | w_zero) ? {P_W{1'b0}}
                : (a_sign ^ w_sign) ? -onehot : onehot;
endmodule

`default_nettype wire
