// Home: search box with suggestions, filters, sorted results with their states.
import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { Empty, ErrorView, Loading } from "../../components/Status";
import { specializations } from "../../lib/doctors";
import { useAsync, useDocumentTitle } from "../../lib/hooks";
import { locale, plural, useT } from "../../lib/i18n";
import { DoctorCard, nothingSoon } from "./DoctorCard";
import { Filters } from "./Filters";
import { SearchBox } from "./SearchBox";
import {
  EMPTY_FILTERS,
  filtersFromQuery,
  PAGE_SIZE,
  queryFromFilters,
  searchDoctors,
  type DoctorHit,
  type SearchFilters,
  type Suggestion,
} from "./search";
import { strings } from "./strings";
import "./home.css";

export default function HomePage() {
  const t = useT(strings);
  const { query, route } = useLocation();
  useDocumentTitle(t("title"));
  const filters = filtersFromQuery(query);
  const key = queryFromFilters(filters);
  const specialties = useAsync(() => specializations(), []);
  const results = useAsync((signal) => searchDoctors(filters, 1, signal), [key, locale.value]);
  const [more, setMore] = useState<DoctorHit[]>([]);
  const [loadingMore, setLoadingMore] = useState(false);
  useEffect(() => setMore([]), [key]);

  const apply = (patch: Partial<SearchFilters>) => route(`/${queryFromFilters({ ...filters, ...patch })}`, true);
  const onPick = (s: Suggestion) => {
    if (s.type === "doctor") route(`/doctors/${s.value}`);
    else if (s.type === "specialty") apply({ specialty: s.value, q: "" });
    else apply({ city: s.value, q: "" });
  };
  const hits = [...(results.data?.items ?? []), ...more];
  const total = results.data?.total ?? 0;
  const loadMore = async () => {
    setLoadingMore(true);
    try {
      const page = await searchDoctors(filters, Math.floor(hits.length / PAGE_SIZE) + 1, new AbortController().signal);
      setMore((m) => [...m, ...page.items]);
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <div class="page home">
      <section class="hero">
        <h1>{t("title")}</h1>
        <p class="muted">{t("intro")}</p>
        <SearchBox value={filters.q} busy={results.loading} onSubmit={(q) => apply({ q })} onPick={onPick} />
      </section>
      <div class="search-layout">
        <Filters key={key} filters={filters} specialties={specialties.data} onChange={apply} />
        <section class="results" aria-labelledby="results-title" aria-busy={results.loading}>
          <div class="row results-head">
            <h2 id="results-title" aria-live="polite">
              {results.loading
                ? t("searching")
                : results.data?.total_exact === false
                  ? t("results_more", { count: total.toLocaleString(locale.value) })
                  : plural(t, "results", total)}
            </h2>
            {key && (
              <a href="/" class="clear" onClick={() => apply(EMPTY_FILTERS)}>
                {t("clear")}
              </a>
            )}
          </div>
          {results.loading && !results.data && <Loading label={t("searching")} />}
          {results.error !== undefined && <ErrorView error={results.error} onRetry={results.reload} />}
          {results.data && total === 0 && <Empty>{t("none")}</Empty>}
          {results.data && filters.specialty && filters.city && hits.every((h) => nothingSoon(h.next_available)) && (
            <p class="waitlist-link">
              {t("nothingSoon")}{" "}
              <a href={`/waitlist?specialty=${encodeURIComponent(filters.specialty)}&city=${encodeURIComponent(filters.city)}`}>
                {t("waitAny")}
              </a>
            </p>
          )}
          <ul class="plain-list results-list">
            {hits.map((hit) => (
              <DoctorCard key={hit.id} hit={hit} />
            ))}
          </ul>
          {hits.length < total && hits.length >= PAGE_SIZE && (
            <Button variant="secondary" busy={loadingMore} busyLabel={t("loadingMore")} onClick={loadMore}>
              {t("more")}
            </Button>
          )}
        </section>
      </div>
    </div>
  );
}
