// Leading non-zero detection node (EIE, Han et al. ISCA 2016, Fig. 4): one per group of four
// inputs. Picks the lowest-numbered input whose nz flag is set and passes its payload up.
//   any     = |nz
//   sel     = index (0..3) of the lowest set nz bit (0 when none)
//   dout    = payload of input sel (0 when none)
// Combinational. Input i occupies din[i*DATA_W +: DATA_W].
`default_nettype none

module eie_lnzd_node #(
    parameter DATA_W = 16
) (
    input  wire [3:0]          nz,
    input  wire [4*DATA_W-1:0] din,
    output wire                any,
    output reg  [1:0]          sel,
    output reg  [DATA_W-1:0]   dout
);
    assign any = |nz;

    always @(*) begin
        casez (nz)
            4'b???1: sel = 2'd0;
            4'b??10: sel = 2'd1;
            4'b?100: sel = 2'd2;
            4'b1000: sel = 2'd3;
            default: sel = 2'd0;
        endcase
        dout = any ? din[sel*DATA_W +: DATA_W] : {DATA_W{1'b0}};
    end
endmodule

`default_nettype wire
