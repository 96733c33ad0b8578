// Fetch each id once per page load (names in lists), forgetting failures so a retry can work.
export function memoById<T>(load: (id: string) => Promise<T>): (ids: readonly string[]) => Promise<Map<string, T>> {
  const known = new Map<string, Promise<T>>();
  return (ids) => {
    const unique = [...new Set(ids)];
    for (const id of unique) {
      if (known.has(id)) continue;
      const loading = load(id);
      loading.catch(() => known.delete(id));
      known.set(id, loading);
    }
    return Promise.all(unique.map(async (id) => [id, await (known.get(id) as Promise<T>)] as const)).then(
      (pairs) => new Map(pairs),
    );
  };
}
