/**
 * Importing the model modules registers them on the default mongoose
 * connection; `registerModels()` makes that dependency explicit for entry
 * points that only need the registry (the index setup).
 */
export function registerModels(): void {
  // Models are registered by their modules' side effects; listed here as they are added.
}
