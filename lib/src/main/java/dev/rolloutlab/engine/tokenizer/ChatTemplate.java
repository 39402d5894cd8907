package dev.rolloutlab.engine.tokenizer;

import java.util.List;

/**
 * Renders chat messages to a prompt. Jinja templates are not interpreted: ChatML is used when the tokenizer has
 * {@code <|im_start|>}, otherwise a plain "role: content" transcript.
 */
public final class ChatTemplate {
    static final String CHATML_JINJA = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
            + "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /** One chat message. */
    public record Message(String role, String content) {}

    private final boolean chatml;

    public ChatTemplate(Tokenizer tokenizer) {
        this.chatml = tokenizer.specialId("<|im_start|>") >= 0 && tokenizer.specialId("<|im_end|>") >= 0;
    }

    public String render(List<Message> messages) {
        StringBuilder sb = new StringBuilder();
        for (Message m : messages) {
            if (chatml)
                sb.append("<|im_start|>")
                        .append(m.role())
                        .append('\n')
                        .append(m.content())
                        .append("<|im_end|>\n");
            else sb.append(m.role()).append(": ").append(m.content()).append('\n');
        }
        sb.append(chatml ? "<|im_start|>assistant\n" : "assistant: ");
        return sb.toString();
    }
}
