// Sparse-matrix read unit of one PE: walks the entries [p_start, p_end) of one column at a time,
// one entry a cycle, from a memory of 64-bit words holding eight (v, z) entries each (entry e in
// word e >> 3, byte e & 7, byte = {v[3:0], z[3:0]}; columns may start in mid-word and cross
// words). A column with no entry in this PE still takes one cycle (the EIE cost model:
// max(1, entries) cycles per broadcast column). The next column is taken from the pointer read
// unit in the cycle the current one issues its last entry, so columns follow without a bubble.
//
// Output (one cycle after the read is issued, registered memory output): e_valid with the entry's
// v, z, e_first (first entry of its column) and the column's activation e_act.
// busy: a column is being walked this cycle (the PE's busy counter).
// Memory: SPM_DEPTH x 64 synchronous-read array, written from the load port (eie_pe loads it
// from a memory image in simulation).
`default_nettype none

module eie_spmat_read #(
    parameter PTR_W     = 16,
    parameter SPM_DEPTH = 1024,
    parameter SPM_AW    = 10,   // >= clog2(SPM_DEPTH), PTR_W >= SPM_AW + 3
    parameter ACT_W     = 16
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              flush,
    // load port
    input  wire              ld_en,
    input  wire [SPM_AW-1:0] ld_addr,
    input  wire [63:0]       ld_data,
    // from the pointer read unit
    input  wire              p_valid,
    input  wire [PTR_W-1:0]  p_start,
    input  wire [PTR_W-1:0]  p_end,
    input  wire [ACT_W-1:0]  p_act,
    input  wire              p_err,     // the offered column is bad: never take it
    output wire              p_ready,
    // to the arithmetic unit
    output reg               e_valid,
    output wire [3:0]        e_v,
    output wire [3:0]        e_z,
    output reg               e_first,
    output reg  [ACT_W-1:0]  e_act,
    output wire              busy
);
    reg [63:0] mem [0:SPM_DEPTH-1];
    reg [63:0] rd_word;

    // current column
    reg             c_valid;
    reg [PTR_W-1:0] c_e;
    reg [PTR_W-1:0] c_end;
    reg             c_first;
    reg [ACT_W-1:0] c_act;
    reg [2:0]       e_byte;

    wire             c_has  = c_valid && (c_e < c_end);                 // an entry to issue
    wire [PTR_W:0]   c_next = {1'b0, c_e} + 1'b1;
    wire             c_last = c_valid && (c_next >= {1'b0, c_end});     // last cycle of the column
    wire             take   = !c_valid || c_last;

    assign p_ready = take && !p_err;
    assign busy    = c_valid;

    always @(posedge clk) begin
        if (ld_en) mem[ld_addr] <= ld_data;
        if (c_has) rd_word <= mem[c_e[SPM_AW+2:3]];
    end

    always @(posedge clk) begin
        if (rst || flush) begin
            c_valid <= 1'b0;
            c_e     <= {PTR_W{1'b0}};
            c_end   <= {PTR_W{1'b0}};
            c_first <= 1'b0;
            c_act   <= {ACT_W{1'b0}};
            e_valid <= 1'b0;
            e_first <= 1'b0;
            e_act   <= {ACT_W{1'b0}};
            e_byte  <= 3'd0;
        end else begin
            e_valid <= c_has;
            if (c_has) begin
                e_first <= c_first;
                e_act   <= c_act;
                e_byte  <= c_e[2:0];
                c_e     <= c_next[PTR_W-1:0];
                c_first <= 1'b0;
            end
            if (take) begin
                c_valid <= p_valid && !p_err;
                if (p_valid && !p_err) begin
                    c_e     <= p_start;
                    c_end   <= p_end;
                    c_first <= 1'b1;
                    c_act   <= p_act;
                end
            end
        end
    end

    wire [7:0] e_entry = rd_word[{e_byte, 3'b000} +: 8];
    assign e_v = e_entry[7:4];
    assign e_z = e_entry[3:0];
endmodule

`default_nettype wire
