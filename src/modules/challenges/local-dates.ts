// Calendar arithmetic on `YYYY-MM-DD` strings. "Today" for a person is their local date in the IANA
// zone of their profile (§2), always derived from the injected clock (app.clock), never Date.now(),
// so streak and window tests can move time by hand.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-CA formats as YYYY-MM-DD. Built once per zone: constructing one costs far more than using it.
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The calendar date at `instant` in `timeZone`; an unknown zone counts as UTC rather than failing a request. */
export function localDate(instant: Date, timeZone: string): string {
  try {
    return formatterFor(timeZone).format(instant);
  } catch {
    return utcDate(instant);
  }
}

export function utcDate(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** Whole days from `a` to `b` (positive when b is later). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}
