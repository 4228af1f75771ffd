// The dashboard page: it draws what GET /api/events pushes, and its buttons call the JSON API.
// No framework and no build step: the browser runs this file as it is.
"use strict";

const WINDOW = [10, 60]; // the timeline shows the demo so far, between 10 s and a minute
const ACTIONS = ["kill", "pause", "resume", "restart"];
const APPLIES = { // which actions apply to a process in each state (the server checks too)
  running: ["kill", "pause", "restart"],
  paused: ["kill", "resume", "restart"],
  dead: ["restart"],
};

let cluster = null; // the latest state the server pushed
let events = [];    // every event since the page (re)connected
let fresh = true;   // the next message is a whole state, after a (re)connection
// Stages whose leader copies writes to the followers: the panel shows every node's copy.
const REPLICATED = new Set(["v2.2"]);
const LOGGED = new Set(["v3"]); // stages whose nodes keep a log: raftlog.js draws it
let shownKey = null; // the key whose copies the panel shows (and asks again at each draw)
let asking = false;  // a question about the copies is in flight

const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.textContent = text;
  return node;
}

function clock(seconds) { // 14:03:27.815, in the browser's time zone
  const at = new Date(seconds * 1000);
  return at.toLocaleTimeString("en-GB", { hour12: false }) + "." +
    String(at.getMilliseconds()).padStart(3, "0");
}

// -- the live state ----------------------------------------------------------------------

function connect() {
  const stream = new EventSource("/api/events"); // reconnects by itself (after `retry`)
  stream.onopen = () => {
    fresh = true;
    $("#connection").textContent = "live";
    $("#connection").className = "online";
  };
  stream.onerror = () => {
    $("#connection").textContent = "reconnecting…";
    $("#connection").className = "offline";
  };
  stream.onmessage = (message) => {
    const state = JSON.parse(message.data);
    events = fresh ? state.events : events.concat(state.events);
    fresh = false;
    cluster = state;
    draw();
  };
}

function draw() {
  const election = cluster.timeline !== null;
  document.body.classList.toggle("no-election", !election);
  $("#stage").textContent = `stage ${cluster.stage}`;
  document.body.classList.toggle("replicated", REPLICATED.has(cluster.stage));
  document.body.classList.toggle("logged", LOGGED.has(cluster.stage));
  drawNodes();
  drawRegistry();
  drawKvChoices();
  drawEvents();
  if (election) drawTimeline();
  if (shownKey !== null) showCopies(shownKey);
}

function drawNodes() {
  const rows = cluster.nodes.map((node) => {
    const leader = node.role === "leader" && node.process === "running";
    const row = element("tr", { "data-node": node.name });
    row.className = `${node.process}${leader ? " leader" : ""}`;
    const age = node.last_heartbeat_age === null ? "not registered"
      : `${node.last_heartbeat_age.toFixed(1)} s`;
    const cells = [
      ["name", node.name], ["url", node.url.replace("http://", "")], ["pid", node.pid], ["process", node.process],
      ["role", roleText(node)], ["term", node.term ?? "–"], ["leader", node.leader ?? "–"],
      ["heartbeat", age],
    ];
    for (const [column, value] of cells) {
      const cell = element("td", { "data-col": column }, String(value));
      if (["role", "term", "leader"].includes(column)) cell.classList.add("election");
      if (["pid", "term", "heartbeat"].includes(column)) cell.classList.add("num");
      row.append(cell);
    }
    const controls = element("td", { "data-col": "actions" });
    for (const action of ACTIONS) {
      const button = element("button", { type: "button", "data-action": action }, action);
      if (action === "kill") button.classList.add("danger");
      button.disabled = !APPLIES[node.process].includes(action);
      button.onclick = () => act(node.name, action);
      controls.append(button);
    }
    row.append(controls);
    return row;
  });
  $("#nodes tbody").replaceChildren(...rows);
  $("#kill-leader").disabled = leader() === null;
  const outsiders = cluster.nodes.filter((n) => n.voter === false).map((n) => n.name);
  const voters = cluster.nodes.filter((n) => n.voter === true).map((n) => n.name);
  $("#non-voters").hidden = outsiders.length === 0;
  $("#non-voters-names").textContent = outsiders.join(", ");
  $("#voters-names").textContent = voters.join(", ") || "the demo's first nodes";
}

// A non-voter follows the leader but never votes or campaigns: say so beside its role.
function roleText(node) {
  if (node.role === null || node.role === undefined) return "–";
  return node.voter === false ? `${node.role} · non-voter` : node.role;
}

function drawRegistry() {
  const registry = cluster.registry;
  $("#registry").textContent = registry === null ? ""
    : `Registry: ${registry.url}, pid ${registry.pid}, ${registry.process}.`;
}

function drawKvChoices() {
  const select = $("#kv-node");
  const names = cluster.nodes.map((node) => node.name);
  if (names.join() === [...select.options].map((option) => option.value).join()) return;
  const chosen = select.value;
  select.replaceChildren(...names.map((name) => element("option", { value: name }, name)));
  if (names.includes(chosen)) select.value = chosen;
}

function drawEvents() {
  const items = events.slice().reverse().map((event) => {
    const item = element("li", { class: event.kind });
    item.append(element("time", {}, clock(event.at)), event.text);
    return item;
  });
  $("#events").replaceChildren(...items);
}

// -- the leadership timeline: one lane per node, one bar per term it led ------------------

function drawTimeline() {
  const svg = $("#timeline");
  const width = svg.clientWidth || 600;
  const names = cluster.nodes.map((node) => node.name);
  const lane = 22, left = 48, top = 6;
  const height = top + lane * names.length + 18;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.style.height = `${height}px`;
  const first = events.length > 0 ? events[0].at : cluster.now;
  const seconds = Math.min(Math.max(cluster.now - first, WINDOW[0]), WINDOW[1]);
  const start = cluster.now - seconds;
  const x = (t) => left + ((Math.max(t, start) - start) / seconds) * (width - left - 8);
  const shapes = [];
  const shape = (tag, attributes, text = "") => {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    node.textContent = text;
    shapes.push(node);
  };
  names.forEach((name, i) => {
    const y = top + i * lane;
    shape("rect", { class: "lane", x: left, y, width: width - left - 8, height: lane - 4 });
    shape("text", { x: 4, y: y + 14 }, name);
  });
  for (const tenure of cluster.timeline) {
    const row = names.indexOf(tenure.leader);
    const end = tenure.end ?? cluster.now;
    if (row < 0 || end < start) continue;
    const y = top + row * lane;
    const x1 = x(tenure.start), x2 = Math.max(x(end), x1 + 2);
    const open = tenure.end === null ? " open" : "";
    shape("rect", {
      class: `tenure${open}`, x: x1, y, width: x2 - x1, height: lane - 4,
      "data-leader": tenure.leader, "data-term": tenure.term,
    });
    if (x2 - x1 > 48) shape("text", { x: x1 + 4, y: y + 14 }, `term ${tenure.term}`);
  }
  const bottom = top + lane * names.length + 12;
  shape("text", { class: "axis", x: left, y: bottom }, `${Math.round(seconds)} s ago`);
  shape("text", { class: "axis", x: width - 32, y: bottom }, "now");
  svg.replaceChildren(...shapes);
}

// -- the controls ------------------------------------------------------------------------

function leader() {
  const leaders = cluster.nodes.filter((n) => n.role === "leader" && n.process === "running");
  if (leaders.length === 0) return null;
  return leaders.reduce((a, b) => (b.term > a.term ? b : a)); // two claim it: the newer term
}

async function call(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    return { ok: false, error: "the demo does not answer (stopped, or restarting?)" };
  }
  const answer = await response.json().catch(() => ({}));
  if (response.ok) return { ok: true, answer };
  return { ok: false, error: answer.error ? answer.error.message : response.statusText };
}

async function act(name, action) {
  $("#message").textContent = "";
  const result = await call("POST", `/api/nodes/${encodeURIComponent(name)}/${action}`);
  if (!result.ok) $("#message").textContent = result.error;
}

async function addNode() {
  $("#message").textContent = "";
  const result = await call("POST", "/api/nodes");
  if (!result.ok) $("#message").textContent = result.error;
}

async function killLeader() {
  const current = leader();
  if (current !== null) await act(current.name, "kill");
}

async function keyValue(event) {
  event.preventDefault();
  const put = event.submitter && event.submitter.value === "put";
  const name = $("#kv-node").value, key = $("#kv-key").value;
  const path = `/api/nodes/${encodeURIComponent(name)}/kv/${encodeURIComponent(key)}`;
  const result = put ? await call("PUT", path, { value: $("#kv-value").value })
    : await call("GET", path);
  const shown = $("#kv-result");
  shown.classList.toggle("error", !result.ok);
  if (!result.ok) shown.textContent = result.error;
  else if (put) shown.textContent = `${name}: stored ${key} = ${result.answer.value}`;
  else shown.textContent = `${name}: ${key} = ${result.answer.value}`;
  if (REPLICATED.has(cluster.stage)) {
    if (put && result.ok) shown.textContent += ` (the leader ${leader()?.name ?? "?"} took it)`;
    shownKey = key;
    await showCopies(key);
  }
}

function copyText(copy) {
  const value = copy.found ? copy.value : "(no such key)";
  if (copy.live) return value;
  return `${value} (${copy.process === "running" ? "no answer" : copy.process}: last known)`;
}

async function showCopies(key) { // at most one question in flight; a draw asks again
  if (asking) return;
  asking = true;
  const result = await call("GET", `/api/copies/${encodeURIComponent(key)}`);
  asking = false;
  const table = $("#kv-copies");
  table.hidden = !result.ok;
  if (!result.ok || key !== shownKey) return;
  table.tBodies[0].replaceChildren(...result.answer.copies.map((copy) => {
    const row = element("tr", { "data-copy": copy.name });
    row.classList.toggle("leader", copy.leader);
    row.classList.toggle("stale", copy.stale);
    row.classList.toggle("away", !copy.live);
    const name = copy.leader ? `${copy.name} (leader)` : copy.name;
    const text = copy.stale ? `${copyText(copy)} — stale` : copyText(copy);
    row.append(element("td", { "data-col": "node" }, name),
      element("td", { "data-col": "copy" }, text),
      element("td", { "data-col": "digest" }, copy.digest ? copy.digest.slice(0, 12) : "—"));
    return row;
  }));
}

$("#add-node").onclick = addNode;
$("#kill-leader").onclick = killLeader;
$("#kv-form").onsubmit = keyValue;
connect();
