/**
 * The transactional outbox: every side effect is first written here, in
 * MongoDB, by the request that causes it, before the response: one document
 * per request, carrying all of that request's events. The web then enqueues
 * them at once (the fast path) and deletes the document; the worker's relay
 * enqueues whatever the fast path missed (Redis down, the web process killed)
 * and deletes it then. An event's `jobId` is its BullMQ job id, so the same
 * event is the same job however often it is sent.
 */
import { model, Schema } from 'mongoose';

const outboxEventSchema = new Schema(
  {
    queue: { type: String, required: true },
    /** The BullMQ job id: deterministic, from the business key. */
    jobId: { type: String, required: true },
    data: { type: Schema.Types.Mixed, required: true },
  },
  { _id: false },
);

const outboxSchema = new Schema(
  {
    _id: { type: String, required: true }, // the first event's job id: a retried request writes no second document
    events: { type: [outboxEventSchema], required: true },
    createdAt: { type: Date, required: true },
    /** Undelivered events are given up after a week (TTL on MongoDB, the expiry sweep elsewhere). */
    expiresAt: { type: Date, required: true },
  },
  { collection: 'outbox', versionKey: false },
);
outboxSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const Outbox = model('Outbox', outboxSchema);
