// chatkeep console: sends chat turns and shows the answer while it streams.
// Streamed text is added as text nodes only: nothing the user or the model wrote is ever parsed as HTML
// here. Once a turn ends the page is loaded again, and the server renders the stored answer's markdown.

const formKey = document.querySelector('meta[name="form-key"]')?.content ?? "";
const composer = document.getElementById("composer");
const messages = document.getElementById("messages");
const statusLine = document.getElementById("status");
const sendButton = document.getElementById("send");
const stopButton = document.getElementById("stop");
let running = null; // the turn in flight: { controller: AbortController, conversation: id or null }

function setStatus(text, isError = false) {
  if (!statusLine) return;
  statusLine.textContent = text;
  statusLine.classList.toggle("error", isError);
}

function kib(bytes) {
  return `${Math.round(bytes / 1024 / 1024)} MiB`;
}

function base64(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

// The files picked in the composer, checked against the same limits the server applies.
async function pickedFiles() {
  const input = document.getElementById("files");
  if (!input || input.files.length === 0) return [];
  const maxFiles = Number(composer.dataset.maxFiles);
  const maxFileBytes = Number(composer.dataset.maxFileBytes);
  const maxTotalBytes = Number(composer.dataset.maxTotalBytes);
  const files = Array.from(input.files);
  if (files.length > maxFiles) throw new Error(`Attach at most ${maxFiles} files to one message.`);
  let total = 0;
  for (const file of files) {
    total += file.size;
    if (file.size > maxFileBytes) throw new Error(`${file.name} is too large: each file may be at most ${kib(maxFileBytes)}.`);
  }
  if (total > maxTotalBytes) throw new Error(`The files are too large together: at most ${kib(maxTotalBytes)} in all.`);
  return Promise.all(files.map(async (file) => ({ name: file.name, type: file.type, data: base64(await file.arrayBuffer()) })));
}

function messageElement(role, text) {
  const item = document.createElement("li");
  item.className = `message role-${role} live`;
  const head = document.createElement("div");
  head.className = "message-head";
  const who = document.createElement("span");
  who.className = "author";
  who.textContent = role === "user" ? "You" : role;
  head.append(who);
  const content = document.createElement("div");
  content.className = "content";
  content.textContent = text;
  item.append(head, content);
  messages.append(item);
  return content;
}

function busy(isBusy) {
  if (sendButton) sendButton.disabled = isBusy;
  if (stopButton) {
    stopButton.hidden = !isBusy;
    if (isBusy) stopButton.focus();
  }
  for (const button of document.querySelectorAll(".regenerate, .edit-form button")) button.disabled = isBusy;
}

function show(conversation) {
  const target = conversation ? `/console/chats/${encodeURIComponent(conversation)}` : "/console/";
  window.location.assign(target + window.location.search);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Read NDJSON records from a streamed response, one callback per record.
async function eachRecord(response, onRecord) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim()) onRecord(JSON.parse(line));
    }
  }
}

async function runTurn(body, shownText) {
  if (running) return;
  const controller = new AbortController();
  running = { controller, conversation: body.conversation };
  busy(true);
  setStatus("Waiting for the model…");
  if (shownText !== null) messageElement("user", shownText);
  const answer = messageElement("assistant", "");
  answer.setAttribute("aria-live", "polite");
  let conversation = body.conversation;
  let failure = null;
  try {
    const response = await fetch("/console/turns", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Form-Key": formKey },
      body: JSON.stringify(body),
      signal: controller.signal,
      credentials: "same-origin",
    });
    if (response.redirected) {
      window.location.assign(response.url);
      return;
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.message || `The server answered ${response.status}.`);
    }
    await eachRecord(response, (record) => {
      if (record.t === "started") {
        conversation = record.conversation;
        running.conversation = conversation;
        setStatus("Answering…");
      } else if (record.t === "delta") {
        answer.append(record.text);
      } else if (record.t === "notice") {
        setStatus(record.text);
      } else if (record.t === "error") {
        failure = record.message;
      }
    });
    if (failure) throw new Error(failure);
    show(conversation);
  } catch (error) {
    if (error.name === "AbortError") {
      setStatus("Stopped. Keeping what was generated…");
      await sleep(400); // the server stores the cancelled answer as the connection closes
      show(conversation);
      return;
    }
    setStatus(error.message, true);
    answer.closest("li").remove();
    if (conversation && conversation !== body.conversation) {
      await sleep(1500);
      show(conversation);
    }
  } finally {
    running = null;
    busy(false);
  }
}

function model() {
  return document.getElementById("model")?.value || null;
}

function conversationId() {
  return composer?.dataset.conversation || null;
}

if (composer) {
  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const textArea = document.getElementById("text");
    const text = textArea.value.trim();
    let files;
    try {
      files = await pickedFiles();
    } catch (error) {
      setStatus(error.message, true);
      return;
    }
    if (!text && files.length === 0) {
      setStatus("Write a message or attach a file.", true);
      textArea.focus();
      return;
    }
    textArea.value = "";
    const names = files.map((file) => `📎 ${file.name}`).join("\n");
    await runTurn(
      { conversation: conversationId(), mode: "send", text, model: model(), files },
      names ? `${text}\n${names}` : text,
    );
  });
  document.getElementById("text")?.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
}

// Stop asks the server to stop the conversation's turn (wherever it runs); the stream then ends normally
// and the page shows the kept, cancelled answer. Before the turn has a conversation, or if the server
// does not answer, closing the request cancels the model call instead.
async function stop() {
  if (!running) return;
  const { controller, conversation } = running;
  setStatus("Stopping…");
  if (!conversation) {
    controller.abort();
    return;
  }
  const fallback = setTimeout(() => controller.abort(), 3000);
  try {
    const response = await fetch(`/console/chats/${encodeURIComponent(conversation)}/stop`, {
      method: "POST",
      headers: { "X-Form-Key": formKey },
      credentials: "same-origin",
    });
    if (!response.ok) controller.abort();
  } catch {
    controller.abort();
  } finally {
    if (!running) clearTimeout(fallback);
  }
}

stopButton?.addEventListener("click", stop);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && running) stop();
});

for (const form of document.querySelectorAll(".edit-form")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = form.querySelector("textarea").value.trim();
    if (!text) return;
    // The edit starts a new branch from this message: hide it and what followed it.
    const item = form.closest("li");
    let next = item;
    while (next) {
      next.hidden = true;
      next = next.nextElementSibling;
    }
    await runTurn({ conversation: conversationId(), mode: "edit", edit_message: form.dataset.message, text, model: model() }, text);
  });
}

for (const button of document.querySelectorAll(".regenerate")) {
  button.addEventListener("click", async () => {
    button.closest("li").hidden = true;
    await runTurn({ conversation: conversationId(), mode: "regenerate", model: model() }, null);
  });
}
