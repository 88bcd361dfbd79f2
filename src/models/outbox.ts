/**
 * The transactional outbox: every side effect is first written here, in
 * MongoDB, by the request that causes it, before the response. The web then
 * enqueues it at once (the fast path); the worker's relay enqueues whatever
 * the fast path missed (Redis down, the web process killed). `_id` is the
 * BullMQ job id, so the same event is the same job however often it is sent.
 */
import { model, Schema } from 'mongoose';

const outboxSchema = new Schema(
  {
    _id: { type: String, required: true }, // the job id
    queue: { type: String, required: true },
    name: { type: String, required: true },
    data: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
    dispatchedAt: { type: Date, default: null },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'outbox', versionKey: false },
);
outboxSchema.index({ dispatchedAt: 1, createdAt: 1 });
outboxSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const Outbox = model('Outbox', outboxSchema);
