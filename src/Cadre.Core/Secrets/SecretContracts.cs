using Cadre.Common;

namespace Cadre.Secrets;

/// <summary>
/// Body of create (<c>name</c> and <c>value</c> required), and of PATCH (<c>value</c> and/or
/// <c>description</c>; the name stays).
/// </summary>
/// <param name="Name">A letter, then up to 63 letters, digits, <c>_</c> or <c>-</c>. Templates read it as <c>secrets.NAME</c> (or <c>secrets['NAME']</c>).</param>
/// <param name="Value">Write-only: stored encrypted, never returned, at most 64 KiB.</param>
/// <param name="Description">What the secret is for, at most 1000 characters; on PATCH, an empty string removes it.</param>
public sealed record SecretRequest(string? Name = null, string? Value = null, string? Description = null)
{
    // Records print every member; the value must not reach a log through a stray interpolation.
    public override string ToString() => $"SecretRequest {{ Name = {Name}, Value = {(Value is null ? "null" : "***")}, Description = {Description} }}";
}

/// <summary>A secret as the API answers it: its name and metadata. The value never leaves the server except into the runs that read it.</summary>
public sealed record SecretResponse(
    string Id, string Name, string? Description, int Version, Actor? CreatedBy, Actor? UpdatedBy, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>The instance's encryption key and how many secrets each key holds.</summary>
/// <param name="KeyId">The ID of the key new values are sealed with.</param>
/// <param name="Source"><c>environment</c> (CADRE_ENCRYPTION_KEY) or <c>file</c> (the data directory's key file).</param>
/// <param name="Keys">Every key that seals stored secrets or that this server can read with, current first.</param>
public sealed record EncryptionStatusResponse(string KeyId, string Source, int Secrets, IReadOnlyList<EncryptionKeyUsage> Keys);

/// <param name="Current">New values are sealed with this key.</param>
/// <param name="Readable">This server has the key (else the secrets under it cannot be read here).</param>
/// <param name="Secrets">How many stored secrets it sealed.</param>
public sealed record EncryptionKeyUsage(string KeyId, bool Current, bool Readable, int Secrets);

/// <summary>What a rotation did: every secret is now under <see cref="KeyId"/>, except those in <see cref="Failed"/>.</summary>
/// <param name="ReEncrypted">Secrets read with an earlier key and sealed again with the current one.</param>
/// <param name="AlreadyCurrent">Secrets already under the current key (left alone).</param>
/// <param name="Failed">Secrets that could not be read (their key is missing, or the ciphertext was altered); set their values again.</param>
public sealed record EncryptionRotationResponse(string KeyId, int ReEncrypted, int AlreadyCurrent, IReadOnlyList<EncryptionRotationFailure> Failed);

/// <summary>A secret a rotation could not re-encrypt, and why (never its value).</summary>
public sealed record EncryptionRotationFailure(string Workspace, string Secret, string Reason);
