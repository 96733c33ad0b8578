// Decorative spinner; the text next to it (or a Loading status) carries the meaning.
export function Spinner() {
  return <span class="spinner" aria-hidden="true" />;
}
