// Log output stage: a linear accumulator to a log activation, the write-back rule of a log x log
// layer (models.fixedpoint.log_requantize; docs/FORMATS.md "From a linear value to a log value").
// The only RTL copy of the rule: a change of the rule touches this unit and tb/log_requant.
//
// x = |acc| / 2**shift in output LSBs; p = position of |acc|'s leading one, guard = |acc|[p-1]
// (a leading-one detector and one guard bit, no sticky bit):
//   zero     acc = 0, acc < 0 with relu, or p < shift - 1 (x < 0.5: underflow)
//   exp 0    p = shift - 1 (0.5 <= x < 1)
//   exp      min(p - shift + guard, 2**EA - 1) otherwise (1.5 * 2**k rounds up; saturation)
// q is packed {sign, zero, exp} (fixedpoint.pack_log, EA + 2 bits; zero packs to 1 << EA).
// Combinational.
`default_nettype none

module log_requant #(
    parameter ACC_W = 48,    // 2..63
    parameter EA    = 4      // exponent bits of the result, 1..6
) (
    input  wire signed [ACC_W-1:0] acc,
    input  wire        [5:0]       shift,
    input  wire                    relu,
    output wire        [EA+1:0]    q
);
    localparam [7:0]     EMAX  = (1 << EA) - 1;
    localparam integer   TOP_I = ACC_W - 1;
    localparam [7:0]     TOP   = TOP_I[7:0];

    wire             neg = acc[ACC_W-1];
    wire [ACC_W-1:0] mag = neg ? -acc : acc;   // |acc| (-2**(ACC_W-1) reads as 2**(ACC_W-1))

    // leading one: the leading zeros of mag (MSB-aligned in 64 bits) in six halving steps; the
    // normalized word n6 has the leading one at bit 63 and the guard bit at 62
    wire [63:0] n0 = {mag, {(64 - ACC_W){1'b0}}};
    wire        z5 = n0[63:32] == 32'd0;
    wire [63:0] n1 = z5 ? {n0[31:0], 32'd0} : n0;
    wire        z4 = n1[63:48] == 16'd0;
    wire [63:0] n2 = z4 ? {n1[47:0], 16'd0} : n1;
    wire        z3 = n2[63:56] == 8'd0;
    wire [63:0] n3 = z3 ? {n2[55:0], 8'd0} : n2;
    wire        z2 = n3[63:60] == 4'd0;
    wire [63:0] n4 = z2 ? {n3[59:0], 4'd0} : n3;
    wire        z1 = n4[63:62] == 2'd0;
    wire [63:0] n5 = z1 ? {n4[61:0], 2'd0} : n4;
    wire        z0 = !n5[63];
    wire [63:0] n6 = z0 ? {n5[62:0], 1'b0} : n5;
    wire [7:0]  p     = TOP - {2'b00, z5, z4, z3, z2, z1, z0};   // when mag != 0
    wire        guard = n6[62];

    wire [7:0] p1    = p + 8'd1;
    wire [7:0] sh    = {2'b00, shift};
    wire       under = p1 < sh;                                  // x < 0.5
    wire       half  = p1 == sh;                                 // 0.5 <= x < 1
    wire [7:0] e_raw = p - sh + {7'd0, guard};                   // p >= shift here
    wire       sat   = e_raw > EMAX;
    wire       zero  = !n6[63] || (relu && neg) || under;       // !n6[63]: mag = 0
    wire [7:0] e     = (zero || half) ? 8'd0 : sat ? EMAX : e_raw;

    assign q = {neg && !zero, zero, e[EA-1:0]};

    generate
        if (ACC_W < 2 || ACC_W > 63 || EA < 1 || EA > 6) begin : g_bad
            log_requant_parameter_error u_error ();
        end
    endgenerate

    wire unused = &{1'b0, e[7:EA], n6[61:0]};
endmodule

`default_nettype wire
