// Reviews, newest first, ten at a time.
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { Empty, ErrorView, Loading } from "../../components/Status";
import { getReviews } from "../../lib/doctors";
import { useAsync } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { formatLongDate } from "../../lib/time";
import type { Review } from "../../lib/types";
import { strings } from "./strings";

export function Reviews({ doctorId }: { doctorId: string }) {
  const t = useT(strings);
  const first = useAsync(() => getReviews(doctorId), [doctorId]);
  const [more, setMore] = useState<Review[]>([]);
  const [busy, setBusy] = useState(false);
  const items = [...(first.data?.items ?? []), ...more];
  const loadMore = async () => {
    setBusy(true);
    try {
      const page = await getReviews(doctorId, items.length);
      setMore((m) => [...m, ...page.items]);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="reviews-title">
      <h2 id="reviews-title">{t("reviewsTitle")}</h2>
      {first.loading && <Loading label={t("loadingReviews")} />}
      {first.error !== undefined && <ErrorView error={first.error} onRetry={first.reload} />}
      {first.data && items.length === 0 && <Empty>{t("noReviews")}</Empty>}
      <ul class="plain-list reviews">
        {items.map((review) => (
          <li key={review.id} class="review">
            <span class="stars" role="img" aria-label={`${review.rating}/5`}>
              {"★".repeat(review.rating)}
              <span class="stars-off">{"★".repeat(5 - review.rating)}</span>
            </span>{" "}
            <span class="muted">{formatLongDate(review.created_at)}</span>
            {review.comment && <p>{review.comment}</p>}
          </li>
        ))}
      </ul>
      {first.data && items.length < first.data.total && (
        <Button variant="secondary" busy={busy} busyLabel={t("loadingReviews")} onClick={loadMore}>
          {t("moreReviews")}
        </Button>
      )}
    </section>
  );
}
