// The filter panel: every change applies at once (the URL holds the search).
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { Alert } from "../../components/Status";
import { languageName, specialtyName } from "../../lib/doctors";
import { plural, useT } from "../../lib/i18n";
import { common } from "../../lib/strings";
import type { Specialization } from "../../lib/types";
import { strings } from "./strings";
import type { SearchFilters, SortKey } from "./search";

const RADII = ["5", "10", "25", "50", "100"];
const WITHIN_DAYS = ["1", "3", "7", "14", "30"];
const LANGUAGES = ["fr", "en", "es", "de", "it", "ar", "pt", "zh"];
const WIDE = window.matchMedia("(min-width: 900px)");
const SORTS: SortKey[] = ["relevance", "distance", "rating", "fee", "next_available"];

interface Props {
  filters: SearchFilters;
  specialties: Specialization[] | undefined;
  onChange: (patch: Partial<SearchFilters>) => void;
}

export function Filters({ filters, specialties, onChange }: Props) {
  const t = useT(strings);
  const tc = useT(common);
  const [city, setCity] = useState(filters.city);
  const [locating, setLocating] = useState(false);
  const [denied, setDenied] = useState(false);
  const located = Boolean(filters.lat && filters.lon);

  const locate = () => {
    setLocating(true);
    setDenied(false);
    navigator.geolocation.getCurrentPosition(
      (position) => {
        setLocating(false);
        onChange({
          lat: position.coords.latitude.toFixed(4),
          lon: position.coords.longitude.toFixed(4),
          radius_km: filters.radius_km || "25",
        });
      },
      () => {
        setLocating(false);
        setDenied(true);
      },
      { timeout: 10_000, maximumAge: 600_000 },
    );
  };

  return (
    // Folded on phones so results are one scroll away; open where there is room beside them.
    <details class="filters card" open={WIDE.matches}>
      <summary>
        <h2>{t("filters")}</h2>
      </summary>
      <SelectField
        label={t("specialty")}
        name="specialty"
        value={filters.specialty}
        onValue={(specialty) => onChange({ specialty })}
        options={[
          { value: "", label: t("anySpecialty") },
          ...(specialties ?? [])
            .map((s) => ({ value: s.code, label: specialtyName(specialties, s.code) }))
            .sort((a, b) => a.label.localeCompare(b.label)),
        ]}
      />
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          onChange({ city: city.trim() });
        }}
      >
        <TextField label={t("city")} name="city" value={city} onValue={setCity} autocomplete="address-level2" />
        <Button type="submit" variant="secondary">
          {t("search")}
        </Button>
      </form>
      <div class="field">
        <span class="label">{t("distance")}</span>
        {located ? (
          <Button variant="link" onClick={() => onChange({ lat: "", lon: "", radius_km: "" })}>
            {t("locationOff")}
          </Button>
        ) : (
          <Button variant="secondary" busy={locating} busyLabel={t("locating")} onClick={locate}>
            {t("useLocation")}
          </Button>
        )}
        {denied && <Alert tone="warning">{t("locationDenied")}</Alert>}
      </div>
      {located && (
        <SelectField
          label={t("distance")}
          name="radius_km"
          value={filters.radius_km}
          onValue={(radius_km) => onChange({ radius_km })}
          options={[{ value: "", label: t("anyDistance") }, ...RADII.map((km) => ({ value: km, label: t("withinKm", { km }) }))]}
        />
      )}
      <SelectField
        label={t("visitType")}
        name="visit_type"
        value={filters.visit_type}
        onValue={(v) => onChange({ visit_type: v as SearchFilters["visit_type"] })}
        options={[
          { value: "", label: tc("anyVisit") },
          { value: "in-person", label: tc("inPerson") },
          { value: "teleconsultation", label: tc("teleconsultation") },
        ]}
      />
      <SelectField
        label={t("language")}
        name="language"
        value={filters.language}
        onValue={(language) => onChange({ language })}
        options={[{ value: "", label: t("anyLanguage") }, ...LANGUAGES.map((code) => ({ value: code, label: languageName(code) }))]}
      />
      <SelectField
        label={t("within")}
        name="within_days"
        value={filters.within_days}
        onValue={(within_days) => onChange({ within_days })}
        options={[
          { value: "", label: t("anyTime") },
          ...WITHIN_DAYS.map((d) => ({ value: d, label: plural(t, "withinDays", Number(d)) })),
        ]}
      />
      <SelectField
        label={t("sort")}
        name="sort"
        value={filters.sort}
        onValue={(sort) => onChange({ sort: sort as SortKey })}
        options={SORTS.filter((s) => s !== "distance" || located).map((s) => ({ value: s, label: t(`sort_${s}`) }))}
      />
    </details>
  );
}
