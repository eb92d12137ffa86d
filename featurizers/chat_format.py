"""The lab chat format shared by the lab model, tiny test models and the lab corpus.

One format everywhere means a tiny test model, the lab model and the corpus that
taught it agree on where a user turn ends and an assistant answer begins.
"""

USER_TOKEN = "<|user|>"
ASSISTANT_TOKEN = "<|assistant|>"
END_TOKEN = "<|end|>"
DOC_TOKEN = "<|endoftext|>"
SPECIAL_TOKENS = (DOC_TOKEN, USER_TOKEN, ASSISTANT_TOKEN, END_TOKEN)

LAB_CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def render_exchange(request: str, answer: str) -> str:
    """One user request and its answer, exactly as the chat template renders them."""
    return f"{USER_TOKEN}\n{request}{END_TOKEN}\n{ASSISTANT_TOKEN}\n{answer}{END_TOKEN}\n"
