// Parse an iCalendar feed with Mozilla's ical.js (the parser behind Thunderbird's
// calendar), independently of the Python side, and print what a calendar app
// would see as JSON:
//
//   node tests/events/ical_check.mjs < feed.ics
//
// {"name", "timezone", "method", "version", "prodid", "refresh_interval",
//  "timezones": [tzid…],
//  "events": [{"uid", "summary", "status", "sequence", "location", "url",
//              "description", "recurring", "rrule", "exdates",
//              "occurrences": [{"start", "end", "start_utc", "end_utc"}…]}…]}
//
// Occurrences are expanded with ical.js's RecurExpansion (Event.iterator()),
// which applies RRULE, RDATE and EXDATE, at most MAX_OCCURRENCES per event.
// "start"/"end" are ISO local times in Asia/Shanghai ("2027-01-04T09:00:00", or
// "2027-01-04" for all-day events); "start_utc"/"end_utc" are the same instants in
// UTC, which are only right when the VTIMEZONE was understood. Exits non-zero
// (message on stderr) when the input does not parse, is not a VCALENDAR, or uses a
// TZID that has no VTIMEZONE.

import ICAL from "ical.js";

const MAX_OCCURRENCES = 400;
const LOCAL_TZID = "Asia/Shanghai";

function fail(message) {
  process.stderr.write(`ical_check: ${message}\n`);
  process.exit(2);
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function text(value) {
  return value === null || value === undefined ? null : String(value);
}

function local(time, zone) {
  if (time.isDate) {
    return time.toString(); // "2027-01-04"
  }
  return time.convertToZone(zone).toString(); // "2027-01-04T09:00:00"
}

function utc(time) {
  if (time.isDate) {
    return null;
  }
  return time.convertToZone(ICAL.Timezone.utcTimezone).toString(); // "…Z"
}

function checkZone(time, what) {
  if (time.isDate || time.zone === ICAL.Timezone.utcTimezone) {
    return;
  }
  const tzid = time.timezone || (time.zone && time.zone.tzid);
  if (!tzid || tzid === "floating" || !ICAL.TimezoneService.has(tzid)) {
    fail(`${what} uses an unknown or floating time zone (${tzid || "none"})`);
  }
}

function describeEvent(vevent, zone) {
  const event = new ICAL.Event(vevent);
  checkZone(event.startDate, `DTSTART of ${event.uid}`);
  const occurrences = [];
  if (event.isRecurring()) {
    const iterator = event.iterator();
    let next;
    while (occurrences.length < MAX_OCCURRENCES && (next = iterator.next())) {
      const details = event.getOccurrenceDetails(next);
      occurrences.push({
        start: local(details.startDate, zone),
        end: local(details.endDate, zone),
        start_utc: utc(details.startDate),
        end_utc: utc(details.endDate),
      });
    }
  } else {
    occurrences.push({
      start: local(event.startDate, zone),
      end: local(event.endDate, zone),
      start_utc: utc(event.startDate),
      end_utc: utc(event.endDate),
    });
  }
  const rrule = vevent.getFirstPropertyValue("rrule");
  const exdates = [];
  for (const property of vevent.getAllProperties("exdate")) {
    for (const value of property.getValues()) {
      checkZone(value, `EXDATE of ${event.uid}`);
      exdates.push(local(value, zone));
    }
  }
  const sequence = vevent.getFirstPropertyValue("sequence");
  return {
    uid: text(event.uid),
    summary: text(event.summary),
    status: text(vevent.getFirstPropertyValue("status")),
    sequence: sequence === null ? null : Number(sequence),
    location: text(event.location),
    url: text(vevent.getFirstPropertyValue("url")),
    description: text(event.description),
    recurring: event.isRecurring(),
    rrule: rrule ? rrule.toString() : null,
    exdates,
    occurrences,
  };
}

const source = await readStdin();
let root;
try {
  root = new ICAL.Component(ICAL.parse(source));
} catch (error) {
  fail(`does not parse: ${error.message}`);
}
if (root.name !== "vcalendar") {
  fail(`top-level component is ${root.name}, not VCALENDAR`);
}

const timezones = [];
for (const vtimezone of root.getAllSubcomponents("vtimezone")) {
  const zone = new ICAL.Timezone(vtimezone);
  ICAL.TimezoneService.register(zone);
  timezones.push(zone.tzid);
}
const zone = ICAL.TimezoneService.get(LOCAL_TZID);
if (!zone) {
  fail(`no VTIMEZONE for ${LOCAL_TZID}`);
}

const result = {
  name: text(root.getFirstPropertyValue("x-wr-calname")),
  timezone: text(root.getFirstPropertyValue("x-wr-timezone")),
  method: text(root.getFirstPropertyValue("method")),
  version: text(root.getFirstPropertyValue("version")),
  prodid: text(root.getFirstPropertyValue("prodid")),
  refresh_interval: text(root.getFirstPropertyValue("refresh-interval")),
  timezones,
  events: root.getAllSubcomponents("vevent").map((v) => describeEvent(v, zone)),
};
process.stdout.write(JSON.stringify(result, null, 1) + "\n");
