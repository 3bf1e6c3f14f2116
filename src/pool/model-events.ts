// Messages from the engine to every worker thread at once (Piscina routes tasks to any one thread).
export const MODEL_EVENTS_CHANNEL = 'inferd:model-events';

export type ModelEvent = { kind: 'unload'; modelKey: string };
