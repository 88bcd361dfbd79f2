/**
 * Answers "is this access token's session still live?" without a database
 * read on every request: each web dyno remembers the answer for
 * `SESSION_CACHE_TTL_MS` (3 s by default). A session revoked anywhere
 * (logout, revoke-token, theft, deletion) therefore stops its access tokens
 * within that time on every dyno, well inside the 5 s the API promises
 * (docs/api.md#guarantees).
 */
import { Types } from 'mongoose';
import { sessions } from '../models/collections.js';
import type { SessionRecord } from '../models/session.js';

const MAX_ENTRIES = 100_000;

export class SessionGuard {
  private readonly cache = new Map<string, { live: boolean; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: () => Date,
  ) {}

  async isLive(sessionId: string, userId: string): Promise<boolean> {
    const nowMs = this.clock().getTime();
    const key = `${sessionId}:${userId}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > nowMs) return hit.live;

    if (!Types.ObjectId.isValid(sessionId) || !Types.ObjectId.isValid(userId)) return false;
    const session = await sessions().findOne<Pick<SessionRecord, 'userId' | 'revokedAt' | 'expiresAt'>>(
      { _id: new Types.ObjectId(sessionId) },
      { projection: { userId: 1, revokedAt: 1, expiresAt: 1 } },
    );
    const live =
      !!session && !session.revokedAt && session.expiresAt.getTime() > nowMs && session.userId.toHexString() === userId;
    if (this.ttlMs > 0) {
      if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.delete(key); // re-insert at the end: Map order is the eviction order
      this.cache.set(key, { live, until: nowMs + this.ttlMs });
    }
    return live;
  }

  /** Forgets what this dyno knows (it revoked something itself). */
  forget(): void {
    this.cache.clear();
  }
}
