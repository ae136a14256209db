// Pointer read unit of one PE: the column pointers p[j] live in two banks, even words in one and
// odd words in the other, so that p[j] and p[j+1] are read in the same cycle.
//
// Input: the head of the activation queue (q_valid, q_act, q_col). Pointer word w = ptr_base +
// q_col (ptr_base even, so w and q_col have the same parity) holds p[q_col] and w + 1 holds
// p[q_col + 1]. The head is popped and both banks read when the output register is free or being
// taken; one cycle later (p_valid) the output holds the column's [p_start, p_end) entry range
// and its activation, and keeps it until p_ready.
//
// Checks on the output (valid only with p_valid): err_order when p_end < p_start (a column that
// ends before it starts), err_range when p_end > SPM_ENTRIES (a pointer past the end of the
// sparse-matrix memory).
//
// Memories: two PTR_DEPTH x PTR_W synchronous-read arrays, written from the load port (word
// address ld_addr, bank ld_addr[0]); eie_pe loads them from memory images (simulation).
`default_nettype none

module eie_ptr_read #(
    parameter PTR_W       = 16,
    parameter PTR_DEPTH   = 256,    // words per bank
    parameter PTR_AW      = 9,      // pointer word address bits, >= clog2(2*PTR_DEPTH)
    parameter ACT_W       = 16,
    parameter COL_W       = 16,
    parameter SPM_ENTRIES = 8192
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              flush,
    // load port: pointer word ld_addr
    input  wire              ld_en,
    input  wire [PTR_AW-1:0] ld_addr,
    input  wire [PTR_W-1:0]  ld_data,
    // layer
    input  wire [PTR_AW-1:0] ptr_base,
    // from the activation queue
    input  wire              q_valid,
    input  wire [ACT_W-1:0]  q_act,
    input  wire [COL_W-1:0]  q_col,
    output wire              q_pop,
    // to the sparse-matrix read unit
    output reg               p_valid,
    output wire [PTR_W-1:0]  p_start,
    output wire [PTR_W-1:0]  p_end,
    output reg  [ACT_W-1:0]  p_act,
    output reg  [COL_W-1:0]  p_col,
    input  wire              p_ready,
    output wire              err_order,
    output wire              err_range
);
    localparam BANK_AW = PTR_AW - 1;

    reg [PTR_W-1:0] bank_even [0:PTR_DEPTH-1];
    reg [PTR_W-1:0] bank_odd  [0:PTR_DEPTH-1];
    reg [PTR_W-1:0] rd_even;
    reg [PTR_W-1:0] rd_odd;
    reg             odd_col;  // the column of the output register is odd: p[j] came from the odd bank

    // word w = ptr_base + col: p[col] at bank (w even ? even : odd) address w >> 1, p[col+1] at the
    // other bank, address (w + 1) >> 1.
    wire [PTR_AW-1:0]  w_lo    = ptr_base + q_col[PTR_AW-1:0];
    wire [BANK_AW-1:0] a_odd   = w_lo[PTR_AW-1:1];
    wire [BANK_AW-1:0] a_even  = a_odd + {{(BANK_AW - 1){1'b0}}, w_lo[0]};

    assign q_pop = q_valid && (!p_valid || p_ready);

    always @(posedge clk) begin
        if (ld_en && !ld_addr[0]) bank_even[ld_addr[PTR_AW-1:1]] <= ld_data;
        if (ld_en && ld_addr[0])  bank_odd[ld_addr[PTR_AW-1:1]]  <= ld_data;
        if (q_pop) begin
            rd_even <= bank_even[a_even];
            rd_odd  <= bank_odd[a_odd];
        end
    end

    always @(posedge clk) begin
        if (rst || flush) begin
            p_valid <= 1'b0;
            odd_col <= 1'b0;
            p_act   <= {ACT_W{1'b0}};
            p_col   <= {COL_W{1'b0}};
        end else if (q_pop) begin
            p_valid <= 1'b1;
            odd_col <= w_lo[0];
            p_act   <= q_act;
            p_col   <= q_col;
        end else if (p_ready) begin
            p_valid <= 1'b0;
        end
    end

    assign p_start   = odd_col ? rd_odd : rd_even;
    assign p_end     = odd_col ? rd_even : rd_odd;
    assign err_order = p_valid && (p_end < p_start);
    assign err_range = p_valid && ({1'b0, p_end} > SPM_ENTRIES[PTR_W:0]);
endmodule

`default_nettype wire
