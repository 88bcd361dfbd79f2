/**
 * One mongoose connection per process. Indexes are created by the release
 * step (`src/release.ts`), never implicitly at boot (`autoIndex: false`).
 */
import mongoose from 'mongoose';
import type { Config } from '../../config/index.js';
import { withTimeout } from './timeout.js';

export async function connectMongo(config: Config): Promise<typeof mongoose> {
  mongoose.set('strictQuery', true);
  return mongoose.connect(config.mongodbUri, {
    autoIndex: false,
    autoCreate: true,
    serverSelectionTimeoutMS: 5000,
    socketTimeoutMS: config.mongodbSocketTimeoutMs,
    maxPoolSize: config.mongodbMaxPoolSize,
  });
}

export async function disconnectMongo(): Promise<void> {
  await mongoose.disconnect();
}

/** Answers when the server answers a ping within `timeoutMs`. */
export async function pingMongo(conn: mongoose.Connection, timeoutMs: number): Promise<void> {
  const db = conn.db;
  if (conn.readyState !== 1 || !db) throw new Error('mongodb not connected');
  await withTimeout(db.admin().command({ ping: 1 }), timeoutMs, 'mongodb ping timed out');
}
