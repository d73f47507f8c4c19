// The widget's own words in the shop's five languages. Kefu's answers come from the server in
// the conversation's language; these are only the frame around them.

export const LANGUAGES = {
  en: "English",
  zh: "中文",
  fr: "Français",
  es: "Español",
  de: "Deutsch",
};

const STRINGS = {
  en: {
    title: "Customer service",
    open: "Open the chat with customer service",
    close: "Minimise the chat",
    unread: (n) => (n === 1 ? "1 unread message" : `${n} unread messages`),
    placeholder: "Type your message…",
    inputLabel: "Your message",
    send: "Send",
    typing: "Kefu is typing…",
    connecting: "Connecting…",
    reconnecting: "Connection lost. Reconnecting…",
    connected: "Connected",
    queued: "Will be sent when the connection is back",
    language: "Language",
    fromPerson: (name) => `${name} · from our team`,
    fromKefu: "Kefu",
    you: "You",
    endChat: "End chat",
    ended: "This conversation has ended. Write to start a new one.",
    log: "Conversation",
    replies: "Suggested replies",
  },
  zh: {
    title: "在线客服",
    open: "打开在线客服聊天",
    close: "收起聊天窗口",
    unread: (n) => `${n} 条未读消息`,
    placeholder: "请输入消息…",
    inputLabel: "您的消息",
    send: "发送",
    typing: "Kefu 正在输入…",
    connecting: "正在连接…",
    reconnecting: "连接已断开，正在重新连接…",
    connected: "已连接",
    queued: "连接恢复后发送",
    language: "语言",
    fromPerson: (name) => `${name} · 人工客服`,
    fromKefu: "Kefu",
    you: "我",
    endChat: "结束对话",
    ended: "本次对话已结束。发送消息即可开始新的对话。",
    log: "对话记录",
    replies: "快捷回复",
  },
  fr: {
    title: "Service client",
    open: "Ouvrir la discussion avec le service client",
    close: "Réduire la discussion",
    unread: (n) => (n === 1 ? "1 message non lu" : `${n} messages non lus`),
    placeholder: "Écrivez votre message…",
    inputLabel: "Votre message",
    send: "Envoyer",
    typing: "Kefu écrit…",
    connecting: "Connexion…",
    reconnecting: "Connexion perdue. Reconnexion…",
    connected: "Connecté",
    queued: "Sera envoyé au retour de la connexion",
    language: "Langue",
    fromPerson: (name) => `${name} · de notre équipe`,
    fromKefu: "Kefu",
    you: "Vous",
    endChat: "Terminer la discussion",
    ended: "Cette discussion est terminée. Écrivez pour en commencer une nouvelle.",
    log: "Discussion",
    replies: "Réponses suggérées",
  },
  es: {
    title: "Atención al cliente",
    open: "Abrir el chat con atención al cliente",
    close: "Minimizar el chat",
    unread: (n) => (n === 1 ? "1 mensaje sin leer" : `${n} mensajes sin leer`),
    placeholder: "Escriba su mensaje…",
    inputLabel: "Su mensaje",
    send: "Enviar",
    typing: "Kefu está escribiendo…",
    connecting: "Conectando…",
    reconnecting: "Se perdió la conexión. Reconectando…",
    connected: "Conectado",
    queued: "Se enviará cuando vuelva la conexión",
    language: "Idioma",
    fromPerson: (name) => `${name} · de nuestro equipo`,
    fromKefu: "Kefu",
    you: "Usted",
    endChat: "Terminar el chat",
    ended: "Esta conversación ha terminado. Escriba para empezar una nueva.",
    log: "Conversación",
    replies: "Respuestas sugeridas",
  },
  de: {
    title: "Kundenservice",
    open: "Chat mit dem Kundenservice öffnen",
    close: "Chat minimieren",
    unread: (n) => (n === 1 ? "1 ungelesene Nachricht" : `${n} ungelesene Nachrichten`),
    placeholder: "Ihre Nachricht…",
    inputLabel: "Ihre Nachricht",
    send: "Senden",
    typing: "Kefu schreibt…",
    connecting: "Verbinde…",
    reconnecting: "Verbindung unterbrochen. Verbinde erneut…",
    connected: "Verbunden",
    queued: "Wird gesendet, sobald die Verbindung zurück ist",
    language: "Sprache",
    fromPerson: (name) => `${name} · aus unserem Team`,
    fromKefu: "Kefu",
    you: "Sie",
    endChat: "Chat beenden",
    ended: "Dieses Gespräch ist beendet. Schreiben Sie, um ein neues zu beginnen.",
    log: "Gespräch",
    replies: "Antwortvorschläge",
  },
};

/** One of the shop's languages for a tag like "zh-CN" or "fr", or null. */
export function supportedLanguage(tag) {
  if (typeof tag !== "string") return null;
  const code = tag.trim().toLowerCase().split(/[-_]/)[0];
  return Object.prototype.hasOwnProperty.call(STRINGS, code) ? code : null;
}

/** The first of the browser's languages the shop speaks, else English. */
export function browserLanguage(languages) {
  for (const tag of languages || []) {
    const code = supportedLanguage(tag);
    if (code) return code;
  }
  return "en";
}

export function strings(language) {
  return STRINGS[supportedLanguage(language) || "en"];
}
