// The floor: a Node socketmap server that does nothing but frame, answering
// every request with one fixed reply given on the command line. No decoding
// beyond finding where each netstring ends, no lookup, no limits: no real
// daemon on Node can be cheaper. The bench measures it beside ours and PMSR so
// the table shows how much of a ratio is Node's own read/write path (what any
// Node daemon pays per request before doing anything) and how much is ours.
//
//   node bench/resolver/floor.ts PORT 'OK secure match=…'

import { createServer } from "node:net";

const [portArg, reply] = process.argv.slice(2);
if (portArg === undefined || reply === undefined) {
  process.stderr.write("usage: floor.ts PORT REPLY\n");
  process.exit(2);
}
const frame = Buffer.from(`${Buffer.byteLength(reply)}:${reply},`);

const server = createServer({ noDelay: true }, (socket) => {
  // An unfinished netstring, kept until the rest arrives.
  let rest: Buffer | null = null;
  socket.on("data", (data: Buffer) => {
    const chunk: Buffer = rest === null ? data : Buffer.concat([rest, data]);
    rest = null;
    let pos = 0;
    let complete = 0;
    while (pos < chunk.length) {
      const colon = chunk.indexOf(0x3a, pos);
      let len = 0;
      for (let j = pos; j < colon; j++) len = len * 10 + ((chunk[j] as number) - 0x30);
      const end = colon + len + 2;
      if (colon === -1 || end > chunk.length) {
        rest = chunk.subarray(pos);
        break;
      }
      complete++;
      pos = end;
    }
    if (complete === 1) socket.write(frame);
    else if (complete > 1) socket.write(Buffer.concat(Array(complete).fill(frame)));
  });
  socket.on("error", () => {});
});
server.listen(Number(portArg), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
