// What the routes need to know about the server beyond the engine: which models it serves under
// which versions, and whether it is draining (shutting down).
import type { Engine } from '../engine/engine.js';

export interface ServedModel {
  name: string;
  version: string;
}

export class ServerState {
  draining = false;
  readonly models = new Map<string, ServedModel>();

  constructor(readonly engine: Engine) {}

  get ready(): boolean {
    return !this.draining;
  }
}
