// The log panel (stage v3): each node's log as a row of boxes, one per entry, coloured by
// term, asked for twice a second (GET /api/logs). dashboard.js, loaded first, gives `$` and
// `element`, and marks the page "logged" for a stage whose nodes keep a log.
"use strict";

const LOG_EVERY = 500; // milliseconds between two questions
const SHOWN = 8;       // the last SHOWN indexes of the longest log (a node sends its last 8)
let askingLogs = false; // a question about the logs is in flight

async function pollLogs() {
  if (!document.body.classList.contains("logged") || askingLogs) return;
  askingLogs = true;
  try {
    const response = await fetch("/api/logs");
    if (response.ok) drawLogs(await response.json());
  } catch (error) {
    // the demo does not answer: the header already says "reconnecting"
  } finally {
    askingLogs = false;
  }
}

function drawLogs(body) {
  const ends = body.logs.map((log) => log.last_index ?? 0);
  const end = Math.max(0, ...ends);
  const first = Math.max(1, end - SHOWN + 1);
  $("#logs").replaceChildren(...body.logs.map((log) => logRow(log, first, end)));
}

function logRow(log, first, end) {
  const row = element("div", {
    class: "log-row", "data-node": log.name, "data-last": log.last_index ?? "",
    "data-commit": log.commit ?? "", "data-applied": log.applied ?? "",
  });
  row.classList.toggle("leader", log.leader);
  row.classList.toggle("away", !log.live);
  const name = element("div", { class: "log-name" }, log.name);
  name.append(element("small", {}, log.role === null ? "" : `${log.role}, term ${log.term}`));
  row.append(name);
  const known = new Map(log.entries.map((entry) => [entry.index, entry]));
  const boxes = element("div", { class: "log-entries" });
  for (let index = first; index <= end; index++) {
    boxes.append(entryBox(log, index, known.get(index)));
  }
  row.append(boxes, element("div", { class: "log-numbers" }, numbers(log)));
  return row;
}

// One entry: its index, its term (the colour too) and its command; dashed until committed.
function entryBox(log, index, entry) {
  if (entry === undefined) { // this node does not hold the entry (yet)
    return element("div", { class: "entry missing", "data-index": index }, String(index));
  }
  const box = element("div", {
    class: "entry", "data-index": index, "data-term": entry.term,
    title: `index ${index}, term ${entry.term}: ${entry.command}`,
  });
  box.style.background = `hsl(${(entry.term * 137) % 360}, 70%, 85%)`; // neighbours differ
  box.classList.toggle("uncommitted", index > log.commit);
  const marks = [index === log.commit ? "commit" : "", index === log.applied ? "applied" : ""];
  box.append(element("b", {}, `${index}`), element("span", {}, `term ${entry.term}`),
    element("span", { class: "command" }, entry.command),
    element("span", { class: "marks" }, marks.filter(Boolean).join(" ")));
  return box;
}

function numbers(log) {
  if (log.last_index === null) return "no answer yet";
  let text = `last ${log.last_index} · commit ${log.commit} · applied ${log.applied}`;
  if (log.behind) text += ` · ${log.behind} behind the leader`;
  if (!log.live) text += ` (${log.process === "running" ? "no answer" : log.process}: last known)`;
  return text;
}

setInterval(pollLogs, LOG_EVERY);
