// Operator console: help requests, the handoff queue, the care list
// (loneliness, complaints that alerted), live and past conversations, service
// tickets, canteen orders, call records and password resets. Help and handoffs
// refresh on stream events and every 5 s besides (the stream can drop; the
// poll is the safety net); the care list on health events and every 30 s.
import {
  $, api, CHANNEL, errorText, fmtDay, fmtTime, h, HELP_STATUS, initAuth, label, localDay, MEAL, MODE, openStream,
  ORDER_STATUS, parseTime, ROLE, session, showError, showResult, syncList, TICKET_STATUS,
} from "./common.js";

const enc = encodeURIComponent;
const HANDOFF_STATUS = { queued: "排队中", taken: "已接手", closed: "已结束" };
const CALL_OUTCOME = {
  completed: "已结束", transferred: "已转人工", transfer_failed: "转接失败", timed_out: "超时挂断",
  failed: "失败", emergency: "紧急求助",
};
const CALLER_KIND = { resident: "老人", family: "家属", unknown: "未知来电" };
const BASE_TITLE = document.title;

const parts = new WeakMap(); // row element → its inner elements, so updates leave inputs alone
let stream = null;
let pollTimer = null;
let careTimer = null;
let viewing = null; // the conversation shown in the viewer
let viewingTitle = "";
const pendingRefresh = {}; // name → timer, to collapse bursts of stream events
const inFlight = new Set(); // loaders running now: a slow server does not pile requests up

function debounced(name, fn, delay = 250) {
  clearTimeout(pendingRefresh[name]);
  pendingRefresh[name] = setTimeout(fn, delay);
}

// Run a loader once at a time; errors go to its panel's error line (401 → sign-in, handled by api()).
async function load(name, errorNode, fn) {
  if (inFlight.has(name)) return;
  inFlight.add(name);
  try {
    await fn();
    showError(errorNode, "");
  } catch (err) {
    if (err.status !== 401) showError(errorNode, errorText(err));
  } finally {
    inFlight.delete(name);
  }
}

// A row's action failed: say why in the row, keep the row.
async function act(row, fn, context = "") {
  const { error } = parts.get(row);
  const buttons = row.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    await fn();
    showError(error, "");
    return true;
  } catch (err) {
    if (err.status !== 401) showError(error, errorText(err, context));
    return false;
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

const field = (name, value) => (value === null || value === undefined || value === "" ? null
  : h("div", { class: "field" }, h("span", { class: "field-name" }, name), h("span", {}, value)));

const minutesSince = (value) => {
  const d = parseTime(value);
  return d ? Math.max(0, Math.round((Date.now() - d.getTime()) / 60000)) : 0;
};

// ---- help requests --------------------------------------------------------

const helpList = $("#desk-help");
const includeResolved = $("#help-include-resolved");
const HELP_RANK = { open: 0, acknowledged: 1, resolved: 2 };

function createHelpRow() {
  const row = h("li", { class: "row", testid: "help-row" });
  const info = h("div", { class: "info" });
  const ack = h("button", { type: "button", testid: "help-ack", onclick: () => ackHelp(row) }, "受理");
  const note = h("input", { testid: "help-note", "aria-label": "处理情况", placeholder: "处理情况，如：已上门，老人无碍" });
  const resolve = h("button", { type: "button", class: "secondary", testid: "help-resolve", onclick: () => resolveHelp(row) }, "解决");
  const resolveBox = h("div", { class: "row-inline" }, note, resolve);
  const error = h("p", { class: "error", role: "alert", testid: "help-error", hidden: true });
  row.append(info, h("div", { class: "actions" }, ack, resolveBox), error);
  parts.set(row, { info, ack, resolveBox, note, error });
  return row;
}

function updateHelpRow(row, x) {
  const p = parts.get(row);
  row.dataset.helpId = x.id;
  row.dataset.status = x.status;
  row.classList.toggle("overdue", !!x.overdue && x.status === "open");
  row.classList.toggle("done", x.status === "resolved");
  p.info.replaceChildren(
    h("div", { class: "row-title" },
      h("strong", {}, x.resident_name || x.resident_id || "未知老人"), " ",
      h("span", { class: `badge status-${x.status}`, testid: "help-status" }, label(HELP_STATUS, x.status)), " ",
      x.overdue && x.status === "open" ? h("span", { class: "badge alarm", testid: "help-overdue" }, "已超时未受理") : null, " ",
      x.escalation_level > 0 ? h("span", { class: "badge warn", testid: "help-escalation" }, `已升级 ${x.escalation_level} 级`) : null),
    x.text ? h("p", { class: "said" }, `“${x.text}”`) : null,
    h("div", { class: "fields" },
      field("地点", x.location),
      x.phone ? h("div", { class: "field" }, h("span", { class: "field-name" }, "电话"),
        h("a", { href: `tel:${x.phone}`, testid: "help-phone" }, x.phone)) : null,
      field("渠道", label(CHANNEL, x.channel)),
      field("时间", `${fmtTime(x.created_at)}（${minutesSince(x.created_at)} 分钟前）`),
      x.acknowledged_at ? field("受理", `${fmtTime(x.acknowledged_at)} ${x.acknowledged_by || ""}`) : null,
      x.resolved_at ? field("解决", `${fmtTime(x.resolved_at)} ${x.resolved_by || ""}`) : null,
      field("处理情况", x.note)),
  );
  p.ack.hidden = x.status !== "open";
  p.resolveBox.hidden = x.status === "resolved";
}

async function refreshHelp() {
  await load("help", $("#help-error"), async () => {
    const items = await api("GET", `/api/desk/help?include_resolved=${includeResolved.checked ? 1 : 0}`);
    // Open first, then acknowledged, then resolved; newest on top within each.
    items.sort((a, b) => (HELP_RANK[a.status] ?? 3) - (HELP_RANK[b.status] ?? 3)
      || (parseTime(b.created_at) - parseTime(a.created_at)) || (b.id - a.id));
    syncList(helpList, items, (x) => x.id, createHelpRow, updateHelpRow, "没有待处理的求助");
    const open = items.filter((x) => x.status === "open").length;
    $("#help-count").textContent = open;
    $("#help-count").classList.toggle("hot", open > 0);
    document.title = open ? `（${open}）${BASE_TITLE}` : BASE_TITLE;
  });
}

async function ackHelp(row) {
  if (await act(row, () => api("POST", `/api/desk/help/${enc(row.dataset.helpId)}/ack`))) refreshHelp();
}

async function resolveHelp(row) {
  const { note } = parts.get(row);
  const body = { note: note.value.trim() };
  if (await act(row, () => api("POST", `/api/desk/help/${enc(row.dataset.helpId)}/resolve`, body))) {
    note.value = "";
    refreshHelp();
  }
}

includeResolved.addEventListener("change", refreshHelp);

// ---- handoffs -------------------------------------------------------------

const handoffList = $("#handoffs");

function createHandoffRow() {
  const row = h("li", { class: "row", testid: "handoff-row" });
  const info = h("div", { class: "info" });
  const transcript = h("ol", { class: "transcript", testid: "handoff-transcript" });
  const summaryLine = h("summary", {});
  const details = h("details", { open: true }, summaryLine, transcript);
  const take = h("button", { type: "button", testid: "handoff-take", onclick: () => takeHandoff(row) }, "接手");
  const input = h("input", { testid: "handoff-reply-input", "aria-label": "回复老人", placeholder: "回复老人的话", maxlength: 2000 });
  const send = h("button", { type: "submit", testid: "handoff-reply-send" }, "发送");
  const reply = h("form", { class: "row-inline", onsubmit: (e) => { e.preventDefault(); replyHandoff(row); } }, input, send);
  const resume = h("button", { type: "button", class: "secondary", testid: "handoff-resume", onclick: () => resumeHandoff(row) }, "交还机器人");
  const error = h("p", { class: "error", role: "alert", testid: "handoff-error", hidden: true });
  row.append(info, details, h("div", { class: "actions" }, take, reply, resume), error);
  parts.set(row, { info, transcript, summaryLine, take, reply, input, resume, error });
  return row;
}

function transcriptItems(entries) {
  return (entries || []).map((e) => h("li", { class: `turn turn-${e.role}`, testid: "transcript-entry" },
    h("span", { class: "turn-who" }, `${label(ROLE, e.role)}${e.ts || e.created_at ? ` ${fmtTime(e.ts || e.created_at)}` : ""}：`),
    e.text || ""));
}

function updateHandoffRow(row, x) {
  const p = parts.get(row);
  const mine = !!session.account && x.taken_by != null && x.taken_by === session.account.operator_id;
  const supervisor = session.account?.role === "supervisor";
  row.dataset.handoffId = x.id;
  row.dataset.status = x.status;
  row.dataset.conversationId = x.conversation_id;
  row.classList.toggle("mine", mine);
  p.info.replaceChildren(
    h("div", { class: "row-title" },
      h("strong", {}, x.summary || "（没有摘要）"), " ",
      h("span", { class: `badge status-${x.status}`, testid: "handoff-status" },
        x.status === "taken" ? `${mine ? "我" : x.taken_by || "他人"}已接手` : label(HANDOFF_STATUS, x.status))),
    h("div", { class: "fields" },
      field("老人", x.resident_name || x.resident_id),
      field("渠道", label(CHANNEL, x.channel)),
      field("原因", x.reason),
      field("时间", `${fmtTime(x.created_at)}（已等 ${minutesSince(x.created_at)} 分钟）`),
      field("接手人", x.taken_by)),
  );
  p.summaryLine.textContent = `对话记录（${(x.transcript || []).length} 条）`;
  p.transcript.replaceChildren(...transcriptItems(x.transcript));
  // Take stays offered while someone else has it: the server decides and a 409 says who was first.
  p.take.hidden = x.status === "closed" || mine;
  p.reply.hidden = !(x.status === "taken" && (mine || supervisor));
  p.resume.hidden = x.status === "closed" || (x.status === "taken" && !mine && !supervisor);
}

async function refreshHandoffs() {
  await load("handoffs", $("#handoffs-error"), async () => {
    const [queued, taken] = await Promise.all([
      api("GET", "/api/desk/handoffs?status=queued"),
      api("GET", "/api/desk/handoffs?status=taken"),
    ]);
    // The queue first, oldest first (first come, first served); then those being handled.
    const byAge = (a, b) => (parseTime(a.created_at) - parseTime(b.created_at)) || (a.id - b.id);
    const items = [...queued.sort(byAge), ...taken.sort(byAge)];
    syncList(handoffList, items, (x) => x.id, createHandoffRow, updateHandoffRow, "没有等待的转人工");
    $("#handoff-count").textContent = queued.length;
    $("#handoff-count").classList.toggle("hot", queued.length > 0);
  });
}

async function takeHandoff(row) {
  await act(row, () => api("POST", `/api/desk/handoffs/${enc(row.dataset.handoffId)}/take`), "take");
  refreshHandoffs(); // either way: now it is ours, or the list shows who has it
}

async function replyHandoff(row) {
  const { input } = parts.get(row);
  const text = input.value.trim();
  if (!text) {
    showError(parts.get(row).error, "请先输入回复内容");
    return;
  }
  const ok = await act(row, () => api("POST", `/api/desk/handoffs/${enc(row.dataset.handoffId)}/reply`, { text }));
  if (ok) {
    input.value = "";
    refreshHandoffs();
    if (viewing === row.dataset.conversationId) showConversation(viewing);
  }
  input.focus();
}

async function resumeHandoff(row) {
  if (await act(row, () => api("POST", `/api/desk/handoffs/${enc(row.dataset.handoffId)}/resume`))) refreshHandoffs();
}

// ---- care: loneliness and complaints ---------------------------------------
// Not alarms: no "hot" counter, no sound. Who, what they said, how often, when.

const CARE_REASON = { repeated: "一周内多次", lives_alone: "独居" };
const CARE_OFFER = { activity: "推荐了附近活动", family: "建议给家人打电话", visit: "约了探访关爱" };
const SYMPTOM = {
  sleep: "睡不好", swelling: "肿", nausea: "恶心", appetite: "不想吃饭", pain: "疼", cough: "咳嗽", dizziness: "头晕",
  constipation: "大便不通", diarrhea: "拉肚子", fatigue: "没劲", palpitation: "心慌", breathless: "气短", fever: "发烧",
  itch: "痒", urination: "小便不顺", memory: "老忘事", numbness: "发麻", mobility: "走路费劲", stomach: "胃不舒服",
  vision: "眼睛看不清", unwell: "身上不舒服",
};
const ALERT_REASON = {
  after_medicine: "吃药后出现", walking: "影响走路", swelling_days: "肿了两天以上", appetite: "吃不下饭",
  fever_days: "发烧两天以上", worse_lasting: "几天了还在加重", repeated: "一周内第三次",
};

function careRow(x) {
  const latest = (x.recent || [])[0];
  return h("li", { class: "row", testid: "care-row", data: { residentId: x.resident_id } },
    h("div", { class: "info" },
      h("div", { class: "row-title" },
        h("strong", {}, x.resident_name || x.resident_id), " ",
        h("span", { class: "badge", testid: "care-reason" }, label(CARE_REASON, x.reason)), " ",
        h("span", { class: "badge", testid: "care-times" }, `${x.times} 次`), " ",
        x.open_visit_ticket_id ? h("span", { class: "badge status-assigned" }, `探访工单 #${x.open_visit_ticket_id}`) : null),
      latest ? h("p", { class: "said", testid: "care-said" }, `“${latest.text || latest.words}”`) : null,
      h("div", { class: "fields" },
        field("村/社区", x.village),
        x.phone ? h("div", { class: "field" }, h("span", { class: "field-name" }, "电话"),
          h("a", { href: `tel:${x.phone}`, testid: "care-phone" }, x.phone)) : null,
        field("最近", fmtTime(x.last_at)),
        x.times > 1 ? field("第一次", fmtTime(x.first_at)) : null),
      (x.recent || []).length > 1 ? h("details", {},
        h("summary", {}, `说过的话（${x.recent.length} 条）`),
        h("ol", { class: "transcript" }, ...x.recent.map((s) => h("li", { class: "turn turn-elder" },
          h("span", { class: "turn-who" }, `${fmtTime(s.created_at)} · ${label(CHANNEL, s.source)}：`),
          s.text || s.words, s.offer ? `（${label(CARE_OFFER, s.offer)}）` : "")))) : null));
}

function observationRow(o) {
  const what = `${o.body_part && ["pain", "swelling", "numbness", "itch"].includes(o.kind) ? o.body_part : ""}${label(SYMPTOM, o.kind)}`;
  return h("li", { class: "row compact", testid: "observation-row", data: { observationId: o.id } },
    h("div", { class: "info" },
      h("div", { class: "row-title" },
        h("strong", {}, `${o.resident_name || o.resident_id} · ${what}`), " ",
        h("span", { class: "badge warn", testid: "observation-reason" }, label(ALERT_REASON, o.alert_reason))),
      h("p", { class: "said" }, `“${o.text || o.words}”`),
      h("small", {}, `${fmtTime(o.created_at)} · ${label(CHANNEL, o.source)} · 已通知：${(o.notified || []).join("、")}`)));
}

async function refreshCare() {
  await load("care", $("#care-error"), async () => {
    const [signals, observations] = await Promise.all([
      api("GET", "/api/desk/care-signals"),
      api("GET", "/api/desk/observations"),
    ]);
    const list = $("#care-signals");
    list.replaceChildren(...signals.map(careRow));
    if (!signals.length) list.append(h("li", { class: "empty" }, "近 7 天没有需要关怀的老人"));
    const obs = $("#observations");
    obs.replaceChildren(...observations.map(observationRow));
    if (!observations.length) obs.append(h("li", { class: "empty" }, "近 7 天没有需要告诉家属的身体不适"));
    $("#care-count").textContent = signals.length;
  });
}

$("#care-refresh").addEventListener("click", refreshCare);

// ---- conversations --------------------------------------------------------

function conversationRow(testid) {
  return () => {
    const row = h("li", { class: "row", testid });
    const info = h("div", { class: "info" });
    const view = h("button", { type: "button", class: "secondary", testid: `${testid.split("-")[0]}-view`,
      onclick: () => showConversation(row.dataset.conversationId, row.dataset.title) }, "查看");
    row.append(info, h("div", { class: "actions" }, view));
    parts.set(row, { info });
    return row;
  };
}

function updateConversationRow(row, c) {
  row.dataset.conversationId = c.conversation_id;
  row.dataset.title = `${c.resident_name || c.resident_id || ""} · ${label(CHANNEL, c.channel)}`;
  parts.get(row).info.replaceChildren(
    h("div", { class: "row-title" },
      h("strong", {}, c.resident_name || c.resident_id || "未知"), " ",
      h("span", { class: "badge" }, label(CHANNEL, c.channel)), " ",
      c.handoff_status ? h("span", { class: `badge status-${c.handoff_status}` }, `转人工：${label(HANDOFF_STATUS, c.handoff_status)}`) : null),
    h("p", { class: "said" }, `${label(ROLE, c.last_role)}：${c.last_text || ""}`),
    h("small", {}, `${fmtTime(c.last_at)} · 共 ${c.turns} 句`));
}

async function refreshLive() {
  await load("live", $("#live-error"), async () => {
    const items = await api("GET", "/api/desk/conversations/live?minutes=15");
    syncList($("#live"), items, (c) => c.conversation_id, conversationRow("live-row"), updateConversationRow, "近 15 分钟没有对话");
  });
}

$("#search-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const params = new URLSearchParams();
  const q = $("#search-input").value.trim();
  const resident = $("#search-resident").value.trim();
  const channel = $("#search-channel").value;
  const since = $("#search-since").value;
  const until = $("#search-until").value;
  if (q) params.set("q", q);
  if (resident) params.set("resident", resident);
  if (channel) params.set("channel", channel);
  // The date pickers give days; search whole days in local time.
  if (since) params.set("since", new Date(`${since}T00:00:00`).toISOString());
  if (until) params.set("until", new Date(`${until}T23:59:59`).toISOString());
  const list = $("#search-results");
  await load("search", $("#search-error"), async () => {
    const items = await api("GET", `/api/desk/conversations/search?${params}`);
    list.replaceChildren();
    syncList(list, items, (c) => c.conversation_id, conversationRow("search-row"), updateConversationRow, "没有找到");
  });
});

async function showConversation(cid, title = null) {
  if (!cid) return;
  if (cid !== viewing) viewingTitle = title || cid;
  viewing = cid;
  const view = $("#conversation");
  await load("conversation", $("#conversation-hint"), async () => {
    const turns = await api("GET", `/api/desk/conversations/${enc(cid)}`);
    if (viewing !== cid) return;
    $("#conversation-title").textContent = `对话内容：${viewingTitle}`;
    view.replaceChildren(...turns.map((t) => h("li", { class: `turn turn-${t.role}`, testid: "conversation-turn" },
      h("span", { class: "turn-who" }, `${label(ROLE, t.role)} ${fmtTime(t.created_at)}${t.channel ? ` · ${label(CHANNEL, t.channel)}` : ""}：`),
      t.text || "")));
    if (!turns.length) view.append(h("li", { class: "empty" }, "这段对话没有内容"));
  });
  $("#conversation-hint").hidden = true;
  if (window.matchMedia("(max-width: 1099px)").matches) $("#conversation-panel").scrollIntoView({ block: "start" });
}

// ---- tickets --------------------------------------------------------------

function createTicketRow() {
  const row = h("li", { class: "row", testid: "ticket-row" });
  const info = h("div", { class: "info" });
  const assignee = h("input", { testid: "ticket-assignee", "aria-label": "派给谁", placeholder: "派给谁（姓名）" });
  const assign = h("button", { type: "button", class: "secondary", testid: "ticket-assign", onclick: () => assignTicket(row) }, "派单");
  const status = h("select", { testid: "ticket-status", "aria-label": "新状态" },
    ...Object.entries(TICKET_STATUS).map(([value, text]) => h("option", { value }, text)));
  const note = h("input", { testid: "ticket-note", "aria-label": "备注", placeholder: "备注" });
  const update = h("button", { type: "button", class: "secondary", testid: "ticket-update", onclick: () => updateTicket(row, status.value) }, "更新");
  const close = h("button", { type: "button", testid: "ticket-close", onclick: () => updateTicket(row, "done") }, "完成并关闭");
  const error = h("p", { class: "error", role: "alert", testid: "ticket-error", hidden: true });
  row.append(info, h("div", { class: "actions" },
    h("div", { class: "row-inline" }, assignee, assign),
    h("div", { class: "row-inline" }, status, note, update),
    close), error);
  parts.set(row, { info, assignee, status, note, close, error, last: null });
  return row;
}

function updateTicketRow(row, t) {
  const p = parts.get(row);
  row.dataset.ticketId = t.id;
  row.dataset.status = t.status;
  if (p.last !== t.status) p.status.value = t.status; // keep a choice being made until the status changes
  p.last = t.status;
  p.info.replaceChildren(
    h("div", { class: "row-title" },
      h("strong", {}, `#${t.id} ${t.service_name || t.service_code}`), " ",
      h("span", { class: `badge status-${t.status}`, testid: "ticket-status-text" }, label(TICKET_STATUS, t.status))),
    h("div", { class: "fields" },
      field("老人", t.resident_name || t.resident_id),
      field("希望日期", t.preferred_date ? fmtDay(t.preferred_date) : null),
      field("派给", t.assignee),
      field("备注", t.note),
      field("提交", fmtTime(t.created_at))));
  p.close.hidden = t.status === "done" || t.status === "cancelled";
}

async function refreshTickets() {
  await load("tickets", $("#tickets-error"), async () => {
    const status = $("#ticket-filter").value;
    const items = await api("GET", `/api/desk/tickets${status ? `?status=${enc(status)}` : ""}`);
    syncList($("#tickets"), items, (t) => t.id, createTicketRow, updateTicketRow, "没有工单");
  });
}

async function assignTicket(row) {
  const { assignee, error } = parts.get(row);
  const name = assignee.value.trim();
  if (!name) return showError(error, "请填写派给谁");
  if (await act(row, () => api("POST", `/api/desk/tickets/${enc(row.dataset.ticketId)}/assign`, { assignee: name }))) {
    assignee.value = "";
    refreshTickets();
  }
}

async function updateTicket(row, status) {
  const { note } = parts.get(row);
  const body = { status, note: note.value.trim() };
  if (await act(row, () => api("POST", `/api/desk/tickets/${enc(row.dataset.ticketId)}/update`, body))) {
    note.value = "";
    refreshTickets();
  }
}

$("#ticket-filter").addEventListener("change", refreshTickets);
$("#ticket-refresh").addEventListener("click", refreshTickets);

// ---- canteen orders -------------------------------------------------------

const canteenSelect = $("#canteen-select");
const canteenDay = $("#canteen-day");
const MEAL_RANK = { breakfast: 0, lunch: 1, dinner: 2 };

async function loadCanteens() {
  await load("canteens", $("#canteen-error"), async () => {
    const list = await api("GET", "/api/desk/canteens");
    const chosen = canteenSelect.value;
    canteenSelect.replaceChildren(...list.map((c) => h("option", { value: c.id }, c.name)));
    if (chosen && list.some((c) => c.id === chosen)) canteenSelect.value = chosen;
  });
  // The service's day, not the browser's: at 01:45 in Shanxi a browser on UTC is still on yesterday.
  if (!canteenDay.value) canteenDay.value = session.today || localDay();
  refreshCanteenOrders();
}

async function refreshCanteenOrders() {
  const canteen = canteenSelect.value;
  const day = canteenDay.value || session.today || localDay();
  if (!canteen) return;
  await load("canteen-orders", $("#canteen-error"), async () => {
    const orders = await api("GET", `/api/desk/canteens/${enc(canteen)}/orders?day=${enc(day)}`);
    orders.sort((a, b) => (MEAL_RANK[a.meal] ?? 9) - (MEAL_RANK[b.meal] ?? 9)
      || String(a.mode).localeCompare(String(b.mode)) || (a.id - b.id));
    const list = $("#canteen-orders");
    list.replaceChildren(...orders.map((o) => h("li", { class: `row compact status-${o.status}`, testid: "canteen-order-row",
      data: { orderId: o.id, status: o.status } },
    h("div", { class: "info" },
      h("div", { class: "row-title" },
        h("strong", {}, `${label(MEAL, o.meal)} · ${o.resident_name || o.resident_id}`),
        ` · ${o.portions} 份 · ${label(MODE, o.mode)} `,
        h("span", { class: `badge status-${o.status}` }, label(ORDER_STATUS, o.status))),
      o.mode === "delivery" && o.address ? h("small", {}, `送到：${o.address}`) : null))));
    if (!orders.length) list.append(h("li", { class: "empty" }, "这天没有订餐"));
    // Portions to cook per meal, and how many of them go out for delivery.
    const totals = {};
    for (const o of orders) {
      if (o.status === "cancelled") continue;
      const t = (totals[o.meal] ||= { all: 0, delivery: 0 });
      t.all += o.portions;
      if (o.mode === "delivery") t.delivery += o.portions;
    }
    $("#canteen-summary").textContent = Object.entries(totals)
      .sort(([a], [b]) => (MEAL_RANK[a] ?? 9) - (MEAL_RANK[b] ?? 9))
      .map(([meal, t]) => `${label(MEAL, meal)} 共 ${t.all} 份（送餐 ${t.delivery} 份）`).join("；");
  });
}

canteenSelect.addEventListener("change", refreshCanteenOrders);
canteenDay.addEventListener("change", refreshCanteenOrders);

// ---- call records ---------------------------------------------------------

function duration(call) {
  const a = parseTime(call.started_at);
  const b = parseTime(call.ended_at);
  if (!a || !b) return call.ended_at ? "" : "通话中";
  const s = Math.max(0, Math.round((b - a) / 1000));
  return s >= 60 ? `${Math.floor(s / 60)} 分 ${s % 60} 秒` : `${s} 秒`;
}

async function refreshCalls() {
  await load("calls", $("#calls-error"), async () => {
    const calls = await api("GET", "/api/desk/calls");
    const list = $("#calls");
    list.replaceChildren(...calls.map((c) => h("li", { class: "row", testid: "call-row", data: { callId: c.id } },
      h("div", { class: "info" },
        h("div", { class: "row-title" },
          h("strong", {}, `${fmtTime(c.started_at)} ${c.caller_number || "未知号码"}`), " ",
          h("span", { class: "badge" }, label(CALLER_KIND, c.caller_kind)), " ",
          c.outcome ? h("span", { class: `badge outcome-${c.outcome}` }, label(CALL_OUTCOME, c.outcome)) : null),
        h("div", { class: "fields" },
          field("老人", c.resident_name || c.resident_id),
          field("时长", duration(c)),
          field("意图", (c.intents || []).join("、")),
          field("按键", c.digits),
          field("求助单", c.help_request_id),
          field("转人工", c.handoff_id),
          field("转接到", c.transfer_target)),
        (c.transcript || []).length ? h("details", {},
          h("summary", {}, `通话内容（${c.transcript.length} 句）`),
          h("ol", { class: "transcript" }, ...transcriptItems(c.transcript))) : null))));
    if (!calls.length) list.append(h("li", { class: "empty" }, "没有通话记录"));
  });
}

$("#call-refresh").addEventListener("click", refreshCalls);

// ---- accounts -------------------------------------------------------------

async function issueReset(username, out) {
  try {
    const data = await api("POST", `/api/desk/accounts/${enc(username)}/reset`);
    out.replaceChildren(`${username} 的一次性验证码：`, h("strong", { class: "code", testid: "reset-code-value" }, data.code),
      "（24 小时内有效，只显示这一次，请当面或电话告诉本人）");
    out.hidden = false;
    out.classList.remove("error");
  } catch (err) {
    if (err.status !== 401) showResult(out, errorText(err), true);
  }
}

$("#account-reset-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const username = $("#account-reset-username").value.trim();
  const out = $("#account-reset-result");
  if (!username) return showResult(out, "请填写用户名", true);
  issueReset(username, out);
});

const ACCOUNT_ROLE = { family: "家属", operator: "话务员", supervisor: "主管" };

async function loadAccounts() {
  const block = $("#account-list-block");
  block.hidden = session.account?.role !== "supervisor";
  if (block.hidden) return;
  try {
    const accounts = await api("GET", "/api/desk/accounts");
    $("#accounts").replaceChildren(...accounts.map((a) => {
      const out = h("p", { role: "status", testid: "account-code", hidden: true });
      return h("li", { class: "row compact", testid: "account-row", data: { username: a.username } },
        h("div", { class: "info" },
          h("strong", {}, `${a.display_name || a.username}（${a.username}）`), " ",
          h("span", { class: "badge" }, label(ACCOUNT_ROLE, a.role)),
          (a.residents || []).length ? h("small", {}, ` 关联：${a.residents.map((r) => r.name).join("、")}`) : null),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "secondary", testid: "account-reset", onclick: () => issueReset(a.username, out) }, "重设密码")),
        out);
    }));
  } catch (err) {
    if (err.status === 403) block.hidden = true; // not a supervisor after all: the form above still works
  }
}

// ---- live updates ---------------------------------------------------------

function onTurn(data) {
  const turn = data.turn || data;
  debounced("handoffs", refreshHandoffs);
  debounced("live", refreshLive);
  if (viewing && turn.conversation_id === viewing) debounced("conversation", () => showConversation(viewing));
}

function setStreamState(state) {
  const node = $("#stream-state");
  node.textContent = state === "open" ? "实时：已连接" : "实时：重连中…";
  node.classList.toggle("error", state !== "open");
}

function poll() {
  refreshHelp();
  refreshHandoffs();
  refreshLive();
}

initAuth({
  accept: (account) => (account.kind === "operator" ? null : "这个账号不能进入工作台，家属请用家属页面"),
  onSignedIn(account) {
    $("#account-role").textContent = label(ACCOUNT_ROLE, account.role);
    stream = openStream({
      help: () => debounced("help", refreshHelp),
      health: () => { debounced("help", refreshHelp); debounced("care", refreshCare, 1000); },
      turn: onTurn,
    }, setStreamState);
    poll();
    pollTimer = setInterval(poll, 5000);
    refreshCare();
    careTimer = setInterval(refreshCare, 30000);
    refreshTickets();
    loadCanteens();
    refreshCalls();
    loadAccounts();
  },
  onSignedOut() {
    if (stream) stream.close();
    stream = null;
    clearInterval(pollTimer);
    clearInterval(careTimer);
    for (const timer of Object.values(pendingRefresh)) clearTimeout(timer);
    viewing = null;
    document.title = BASE_TITLE;
    for (const id of ["#desk-help", "#handoffs", "#live", "#search-results", "#conversation", "#tickets",
      "#canteen-orders", "#calls", "#accounts", "#care-signals", "#observations"]) $(id).replaceChildren();
    $("#care-count").textContent = "0";
    canteenDay.value = ""; // the next sign-in starts again on the service's day
    $("#account-reset-result").hidden = true;
  },
});
