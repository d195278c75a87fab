package dova.serve.registry;

import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Who may publish the models a registry serves. A model file's own checksum catches corruption,
 * not tampering (anyone can re-seal a modified model with the project's writer); with a trust key
 * every published version gets an HMAC-SHA256 signature ({@code vNNNN.sig}, hex) over its file,
 * and a version whose signature is missing or does not verify is refused when it is loaded. The
 * key never appears in {@link #toString()}, logs or metrics.
 */
public final class ModelTrust {
    /** Shortest accepted key: 16 bytes (32 hex digits). */
    public static final int MIN_KEY_BYTES = 16;

    private final byte[] key;
    private final boolean allowUnsigned;

    private ModelTrust(byte[] key, boolean allowUnsigned) {
        this.key = key;
        this.allowUnsigned = allowUnsigned;
    }

    /** No key: models are neither signed nor verified (start-up says so). */
    public static ModelTrust none() {
        return new ModelTrust(null, true);
    }

    /**
     * @param hexKey the HMAC key as hex digits (at least {@link #MIN_KEY_BYTES} bytes), or blank for none
     * @param allowUnsigned with a key: also accept versions that carry no signature
     * @throws IllegalArgumentException naming the setting when the key is not valid hex or too short
     */
    public static ModelTrust of(String hexKey, boolean allowUnsigned) {
        if (hexKey == null || hexKey.isBlank()) {
            return none();
        }
        byte[] k;
        try {
            k = HexFormat.of().parseHex(hexKey.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("dova.model.trust-key (DOVA_MODEL_TRUST_KEY) must be hex digits");
        }
        if (k.length < MIN_KEY_BYTES) {
            throw new IllegalArgumentException("dova.model.trust-key (DOVA_MODEL_TRUST_KEY) must be at least " + MIN_KEY_BYTES
                    + " bytes (" + 2 * MIN_KEY_BYTES + " hex digits), got " + k.length);
        }
        return new ModelTrust(k, allowUnsigned);
    }

    public boolean signs() {
        return key != null;
    }

    public boolean allowUnsigned() {
        return allowUnsigned;
    }

    /** The hex HMAC-SHA256 of {@code file} under the key. */
    String sign(byte[] file) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(file));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HMAC-SHA256 unavailable", e);
        }
    }

    /** True when {@code signatureHex} is the signature of {@code file} (constant-time comparison). */
    boolean verifies(byte[] file, String signatureHex) {
        return MessageDigest.isEqual(sign(file).getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                signatureHex.trim().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Override
    public String toString() {
        return key == null ? "ModelTrust[unsigned models]" : "ModelTrust[HMAC-SHA256 key set, unsigned "
                + (allowUnsigned ? "accepted" : "refused") + "]";
    }
}
