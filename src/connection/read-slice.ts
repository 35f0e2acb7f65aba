import type net from 'node:net';
import { now } from './request.js';

/**
 * Reply work in slices, as a multi-key call slices its own work (`makeSlicer` in client/batch.ts).
 *
 * libuv reads up to 32 chunks from a ready socket in one poll, and each chunk is parsed, checked and
 * decoded at once (a multi-get's hits go into its result as they arrive). A burst of replies, e.g.
 * to a 100,000-key getMulti on three servers, could therefore hold the event loop for tens of
 * milliseconds. Here, once the socket reads of one event-loop turn have run for `READ_SLICE_MS`,
 * the socket that crossed it pauses, and a chunk any socket delivers later in that turn goes back to
 * the front of its socket's buffer unread; paused sockets resume a turn later, after timers and
 * other I/O had their turn. Bytes that arrive meanwhile wait in the stream's buffer (past its high-water
 * mark, libuv stops reading); nothing is dropped and replies keep their order.
 */

/** The socket reads of one turn may run this long before a socket pauses. */
export const READ_SLICE_MS = 4;

/** When the reads of the current turn began (-1: none yet this turn). */
let turnStart = -1;
const paused: net.Socket[] = [];

function endTurn(): void {
  turnStart = -1;
}

function resumeAll(): void {
  for (const socket of paused.splice(0)) if (!socket.destroyed) socket.resume();
}

const overSlice = (): boolean => turnStart >= 0 && now() - turnStart >= READ_SLICE_MS;

function pause(socket: net.Socket): void {
  socket.pause();
  // Two setImmediate hops: the first runs in this turn's check phase, the second in the next
  // turn's, after that turn's timers and poll; `resume` then flows what the stream buffered.
  // Connection.checkDeadline does not judge a late request while its socket is paused here (the
  // bytes that arrived are held): it checks again a timer later, so a pause must always end.
  if (paused.push(socket) === 1) setImmediate(() => setImmediate(resumeAll));
}

/**
 * Call before handling a chunk. False when this turn's reads are already over the slice: the chunk
 * went back to the front of the socket's buffer and the socket paused, so the chunk comes again,
 * first, when it resumes. True otherwise (and the turn's clock runs from its first read).
 */
export function beginRead(socket: net.Socket, chunk: Buffer): boolean {
  if (overSlice() && !socket.destroyed) {
    pause(socket);
    socket.unshift(chunk);
    return false;
  }
  if (turnStart < 0) {
    turnStart = now();
    setImmediate(endTurn);
  }
  return true;
}

/** Call after handling a chunk: pauses `socket` once the turn's reads are over the slice. */
export function endRead(socket: net.Socket): void {
  if (overSlice() && !socket.destroyed) pause(socket);
}
