package dev.gpt4j.core;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A LoRA adapter's shape (Hu et al. 2021, as PEFT defines it): each targeted linear layer W gets
 * {@code W x + scaling · B(A(dropout(x)))} with A [r, in], B [out, r] and scaling = alpha / r (or alpha / √r with
 * rsLoRA).
 *
 * <p>{@code targets} are PEFT's {@code target_modules}: a layer is targeted when its name (inside a block: {@code
 * attn.c_attn}, {@code attn.c_proj}, {@code mlp.c_fc}, {@code mlp.c_proj}) equals a target or ends with "." and the
 * target. So {@code c_proj} targets both projections, {@code attn.c_proj} the attention's only.
 *
 * @param r       the rank, at least 1
 * @param alpha   the scale's numerator ({@code lora_alpha})
 * @param dropout dropout on the adapter's input during training ({@code lora_dropout}), in [0, 1)
 * @param targets PEFT target module names, at least one, each matching some layer
 * @param rsLora  scaling alpha / √r instead of alpha / r ({@code use_rslora})
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targets, boolean rsLora) {
    /** The linear layers of a GPT-2 block, by their names inside the block. */
    public static final List<String> LAYERS = List.of("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj");

    public LoraConfig {
        if (r <= 0) throw new IllegalArgumentException("LoRA rank r must be at least 1, not " + r);
        if (!(alpha > 0) || Double.isInfinite(alpha)) throw new IllegalArgumentException("lora_alpha must be a positive number, not " + alpha);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("lora_dropout must be in [0, 1), not " + dropout);
        targets = List.copyOf(new LinkedHashSet<>(targets));
        if (targets.isEmpty()) throw new IllegalArgumentException("LoRA needs at least one target module (" + String.join(", ", LAYERS) + ")");
        for (String t : targets) {
            if (LAYERS.stream().noneMatch(l -> matches(l, t))) {
                throw new IllegalArgumentException("unknown LoRA target module '" + t + "': a GPT-2 block has " + String.join(", ", LAYERS)
                        + " (PEFT matches by suffix: c_attn, c_proj, c_fc, attn.c_proj, mlp.c_proj ...)");
            }
        }
    }

    /** The factor of the adapter's product: alpha / r, or alpha / √r with rsLoRA. */
    public double scaling() {
        return rsLora ? alpha / Math.sqrt(r) : alpha / r;
    }

    /** Whether the block's layer {@code layer} (e.g. {@code attn.c_proj}) gets an adapter. */
    public boolean targets(String layer) {
        return targets.stream().anyMatch(t -> matches(layer, t));
    }

    /** The targeted layers of a block, in {@link #LAYERS}' order. */
    public List<String> targetedLayers() {
        List<String> out = new ArrayList<>();
        for (String l : LAYERS) if (targets(l)) out.add(l);
        return out;
    }

    private static boolean matches(String layer, String target) {
        return layer.equals(target) || layer.endsWith("." + target);
    }

    /**
     * Parses {@code r=16,alpha=16,dropout=0.05,targets=c_attn,attn.c_proj[,rslora]}: keys r, alpha (default r),
     * dropout (default 0), targets (the rest of the list up to the next key; default c_attn), rslora (a flag).
     */
    public static LoraConfig parse(String spec) {
        int r = -1;
        Double alpha = null;
        double dropout = 0;
        boolean rs = false;
        List<String> targets = new ArrayList<>();
        boolean inTargets = false;
        for (String part : spec.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) continue;
            int eq = p.indexOf('=');
            String key = eq < 0 ? p.toLowerCase(Locale.ROOT) : p.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            String value = eq < 0 ? null : p.substring(eq + 1).strip();
            if (eq < 0 && inTargets && !key.equals("rslora")) {
                targets.add(p);
                continue;
            }
            inTargets = false;
            try {
                switch (key) {
                    case "r", "rank" -> r = Integer.parseInt(value);
                    case "alpha", "lora_alpha" -> alpha = Double.parseDouble(value);
                    case "dropout", "lora_dropout" -> dropout = Double.parseDouble(value);
                    case "targets", "target_modules" -> {
                        targets.add(value);
                        inTargets = true;
                    }
                    case "rslora", "use_rslora" -> rs = value == null || Boolean.parseBoolean(value);
                    default -> throw new IllegalArgumentException("unknown LoRA setting '" + key + "' in '" + spec
                            + "' (r, alpha, dropout, targets, rslora)");
                }
            } catch (NumberFormatException | NullPointerException e) {
                throw new IllegalArgumentException("LoRA setting '" + p + "' in '" + spec + "' needs a number");
            }
        }
        if (r < 0) throw new IllegalArgumentException("LoRA settings '" + spec + "' name no rank (r=16, say)");
        return new LoraConfig(r, alpha == null ? r : alpha, dropout, targets.isEmpty() ? List.of("c_attn") : targets, rs);
    }

    @Override
    public String toString() {
        return "r=" + r + ",alpha=" + (alpha == Math.rint(alpha) ? String.valueOf((long) alpha) : String.valueOf(alpha)) + ",dropout=" + dropout
                + ",targets=" + String.join(",", targets) + (rsLora ? ",rslora" : "");
    }

    /** The set of targets, for comparisons. */
    Set<String> targetSet() {
        return Set.copyOf(targets);
    }
}
