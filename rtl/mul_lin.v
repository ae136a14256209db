// Conventional signed multiplier, the reference the shift multipliers are measured against.
// Golden model: models.fixedpoint.mul_lin.
`default_nettype none

module mul_lin #(
    parameter ACT_W = 16,
    parameter WGT_W = 8
) (
    input  wire signed [ACT_W-1:0]       act,
    input  wire signed [WGT_W-1:0]       wgt,
    output wire signed [ACT_W+WGT_W-1:0] prod
);
    localparam P_W = ACT_W + WGT_W;

    wire signed [P_W-1:0] act_x = {{WGT_W{act[ACT_W-1]}}, act};
    wire signed [P_W-1:0] wgt_x = {{ACT_W{wgt[WGT_W-1]}}, wgt};

    assign prod = act_x * wgt_x;
endmodule

`default_nettype wire
