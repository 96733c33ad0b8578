// Star rating with its value spoken, not only drawn.
import { formatLocale, plural, useT } from "../lib/i18n";
import { common } from "../lib/strings";

export function Rating({ rating, total }: { rating: number; total: number }) {
  const t = useT(common);
  const rounded = Math.round(rating * 10) / 10;
  if (total === 0) return <span class="rating rating-none">{plural(t, "reviews", 0)}</span>;
  return (
    <span class="rating">
      <span class="stars" role="img" aria-label={t("rating", { rating: rounded })}>
        {"★★★★★".slice(0, Math.round(rating))}
        <span class="stars-off">{"★★★★★".slice(Math.round(rating))}</span>
      </span>{" "}
      {rounded.toLocaleString(formatLocale())} · {plural(t, "reviews", total)}
    </span>
  );
}
