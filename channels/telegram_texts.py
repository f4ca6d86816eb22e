"""The Telegram channel's own sentences (commands, buttons, labels) in vi, en and fr.

The assistant's answers come from the engine in the user's language; these are only the
words of the chat interface around them. Other languages fall back to English.
"""

from __future__ import annotations

LANGUAGES = ("vi", "en", "fr")
LANGUAGE_BUTTONS = {"vi": "Tiếng Việt", "en": "English", "fr": "Français"}

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "welcome": (
            "Xin chào! Tôi là Trợ lý Lãnh sự. Tôi trả lời các câu hỏi về hộ chiếu, hộ tịch, "
            "quốc tịch, hợp pháp hóa lãnh sự, thị thực và bảo hộ công dân, dựa trên hướng dẫn "
            "đã được rà soát, kèm nguồn.\n\n"
            "/human: nói chuyện với cán bộ lãnh sự\n"
            "/hotline: đường dây nóng bảo hộ công dân\n"
            "/rate: đánh giá cuộc trò chuyện\n\n"
            "Khẩn cấp (24/7): {hotline}\n\n"
            "Chọn ngôn ngữ:"
        ),
        "language_set": "Đã chọn tiếng Việt. Bạn cứ nhắn câu hỏi của mình.",
        "hotline": "Đường dây nóng bảo hộ công dân Việt Nam (24/7): {hotline}",
        "hotline_mission": "{mission}: {mission_hotline}",
        "sources": "Nguồn",
        "reviewed": "rà soát ngày {reviewed}",
        "officer": "Cán bộ lãnh sự:",
        "not_text": "Tôi chỉ đọc được tin nhắn chữ. Bạn vui lòng nhắn câu hỏi bằng chữ.",
        "invalid": "Tin nhắn cần có từ 1 đến {limit} ký tự. Bạn vui lòng nhắn ngắn gọn hơn.",
        "error": (
            "Xin lỗi, đã có lỗi khi xử lý tin nhắn của bạn; bạn vui lòng gửi lại sau ít phút. "
            "Trường hợp khẩn cấp, hãy gọi đường dây nóng bảo hộ công dân (24/7): {hotline}."
        ),
        "vote_thanks": "Cảm ơn bạn đã góp ý!",
        "answer_gone": "Câu trả lời này không còn nữa.",
        "rate_question": "Bạn hài lòng với cuộc trò chuyện này ở mức nào? (1: không hài lòng, 5: rất hài lòng)",
        "resolved": "Cán bộ lãnh sự đã kết thúc cuộc trò chuyện.",
        "rated": "Cảm ơn bạn đã đánh giá {score}/5! Bạn có muốn góp ý thêm? Hãy nhắn góp ý của bạn, hoặc gửi /skip để bỏ qua.",
        "comment_thanks": "Cảm ơn góp ý của bạn!",
        "comment_skipped": "Đã bỏ qua. Cảm ơn bạn!",
        "comment_too_long": "Góp ý tối đa {limit} ký tự. Bạn vui lòng nhắn ngắn hơn, hoặc gửi /skip.",
        "nothing_to_rate": "Chưa có cuộc trò chuyện nào để đánh giá. Bạn cứ nhắn câu hỏi của mình.",
    },
    "en": {
        "welcome": (
            "Hello! I am the Consular Assistant. I answer questions about passports, civil "
            "status, nationality, legalization, visas and help for citizens abroad, from "
            "reviewed guidance, with its sources.\n\n"
            "/human: talk to a consular officer\n"
            "/hotline: the citizen protection hotline\n"
            "/rate: rate this conversation\n\n"
            "Emergency (24/7): {hotline}\n\n"
            "Choose your language:"
        ),
        "language_set": "English it is. Ask me your question.",
        "hotline": "Vietnamese citizen protection hotline (24/7): {hotline}",
        "hotline_mission": "{mission}: {mission_hotline}",
        "sources": "Sources",
        "reviewed": "reviewed {reviewed}",
        "officer": "Consular officer:",
        "not_text": "I can only read text messages. Please type your question.",
        "invalid": "A message must have 1 to {limit} characters. Please send a shorter one.",
        "error": (
            "Sorry, something went wrong with your message; please send it again in a few "
            "minutes. In an emergency, call the 24/7 citizen protection hotline {hotline}."
        ),
        "vote_thanks": "Thanks for your feedback!",
        "answer_gone": "This answer is no longer available.",
        "rate_question": "How satisfied are you with this conversation? (1: not satisfied, 5: very satisfied)",
        "resolved": "The consular officer has closed the conversation.",
        "rated": "Thanks for rating {score}/5! Would you like to add a comment? Send it as your next message, or /skip.",
        "comment_thanks": "Thank you for your comment!",
        "comment_skipped": "Skipped. Thank you!",
        "comment_too_long": "A comment has at most {limit} characters. Please send a shorter one, or /skip.",
        "nothing_to_rate": "There is no conversation to rate yet. Ask me your question.",
    },
    "fr": {
        "welcome": (
            "Bonjour ! Je suis l'Assistant consulaire. Je réponds aux questions sur les "
            "passeports, l'état civil, la nationalité, la légalisation, les visas et l'aide aux "
            "citoyens à l'étranger, à partir de guides vérifiés, avec leurs sources.\n\n"
            "/human : parler à un agent consulaire\n"
            "/hotline : la ligne d'urgence de protection consulaire\n"
            "/rate : noter cette conversation\n\n"
            "Urgence (24 h/24) : {hotline}\n\n"
            "Choisissez votre langue :"
        ),
        "language_set": "Français choisi. Posez-moi votre question.",
        "hotline": "Ligne d'urgence de protection des citoyens vietnamiens (24 h/24) : {hotline}",
        "hotline_mission": "{mission} : {mission_hotline}",
        "sources": "Sources",
        "reviewed": "vérifié le {reviewed}",
        "officer": "Agent consulaire :",
        "not_text": "Je ne lis que les messages écrits. Merci d'écrire votre question.",
        "invalid": "Un message doit compter de 1 à {limit} caractères. Merci d'en envoyer un plus court.",
        "error": (
            "Désolé, une erreur s'est produite avec votre message ; merci de le renvoyer dans "
            "quelques minutes. En cas d'urgence, appelez la ligne d'urgence 24 h/24 {hotline}."
        ),
        "vote_thanks": "Merci pour votre avis !",
        "answer_gone": "Cette réponse n'existe plus.",
        "rate_question": "Êtes-vous satisfait de cette conversation ? (1 : pas satisfait, 5 : très satisfait)",
        "resolved": "L'agent consulaire a clos la conversation.",
        "rated": "Merci pour votre note de {score}/5 ! Voulez-vous ajouter un commentaire ? Envoyez-le dans votre prochain message, ou /skip.",
        "comment_thanks": "Merci pour votre commentaire !",
        "comment_skipped": "C'est noté. Merci !",
        "comment_too_long": "Un commentaire compte au plus {limit} caractères. Merci d'en envoyer un plus court, ou /skip.",
        "nothing_to_rate": "Il n'y a pas encore de conversation à noter. Posez-moi votre question.",
    },
}


def interface_language(lang: str | None) -> str:
    """``lang`` when the interface speaks it, else English."""
    return lang if lang in TEXTS else "en"


def text(lang: str | None, key: str, **values: object) -> str:
    return TEXTS[interface_language(lang)][key].format(**values)
