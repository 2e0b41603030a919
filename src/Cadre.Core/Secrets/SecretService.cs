using System.Text;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Secrets;

/// <summary>
/// A workspace's secrets: named values, encrypted at rest, written by people and read only by the
/// runs (and tools) whose definitions name them. Nothing here returns a value to a caller of the API;
/// <see cref="RevealAsync"/> and <see cref="ResolveAsync"/> are for the engine and integrations.
/// </summary>
internal sealed class SecretService(
    CadreDbContext db, StorageProvider storage, IdGenerator ids, TimeProvider time, ActorService actors, SecretCipher cipher, EncryptionKeys keys)
{
    private const int RotationBatch = 200;

    public async Task<ServiceResult<Page<SecretResponse>>> ListAsync(string workspaceId, string? search, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(page);
        var query = db.Secrets.AsNoTracking().Where(s => s.WorkspaceId == workspaceId);
        if (!string.IsNullOrWhiteSpace(search))
        {
            if (search.Length > 200)
            {
                return ServiceError.Validation("q", "Must be at most 200 characters.");
            }

            var term = search.Trim().ToLowerInvariant();
#pragma warning disable CA1304, CA1311, CA1862 // Translated to SQL lower()/LIKE by EF Core; the culture-aware overloads do not translate.
            query = query.Where(s => s.Name.ToLower().Contains(term) || (s.Description ?? "").ToLower().Contains(term));
#pragma warning restore CA1304, CA1311, CA1862
        }

        var found = await query.ToPageAsync(s => s.Id, page, cancellationToken);
        var resolved = await actors.ResolveAsync(found.Items.SelectMany(s => new[] { s.CreatedBy, s.UpdatedBy }), cancellationToken);
        return found.Map(s => ToResponse(s, resolved));
    }

    public async Task<SecretResponse?> GetAsync(string workspaceId, string nameOrId, CancellationToken cancellationToken) =>
        await FindAsync(workspaceId, nameOrId, tracking: false, cancellationToken) is { } found
            ? ToResponse(found, await actors.ResolveAsync([found.CreatedBy, found.UpdatedBy], cancellationToken))
            : null;

    public async Task<ServiceResult<SecretResponse>> CreateAsync(string workspaceId, SecretRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        if (request.Name is not { } name || !SecretRules.Name().IsMatch(name))
        {
            errors.Add("name", $"Is required: {SecretRules.NameRule}.");
        }

        if (string.IsNullOrEmpty(request.Value))
        {
            errors.Add("value", "Is required: the secret's value, at most 64 KiB.");
        }

        Validate(request, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var now = time.GetUtcNowTruncated();
        var sealedValue = cipher.Seal(workspaceId, request.Name!, request.Value!);
        var secret = new Secret
        {
            Id = ids.NewId(Secret.IdPrefix),
            WorkspaceId = workspaceId,
            Name = request.Name!,
            Description = Blank(request.Description),
            Ciphertext = sealedValue.Ciphertext,
            KeyId = sealedValue.KeyId,
            Version = 1,
            CreatedBy = caller.ActorId,
            UpdatedBy = caller.ActorId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Secrets.Add(secret);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"A secret named '{request.Name}' already exists in this workspace; change its value with PATCH.");
        }

        return ToResponse(secret, await actors.ResolveAsync([caller.ActorId], cancellationToken));
    }

    /// <summary>Replaces the value and/or the description; the name stays (definitions read the secret by it).</summary>
    public async Task<ServiceResult<SecretResponse>> UpdateAsync(
        string workspaceId, string nameOrId, SecretRequest request, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var secret = await FindAsync(workspaceId, nameOrId, tracking: true, cancellationToken);
        if (secret is null)
        {
            return NotFound(nameOrId);
        }

        if (precondition is not null && !precondition.IsMetBy(secret.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but secret '{secret.Name}' is at version {secret.Version}.");
        }

        var errors = new ValidationErrors();
        if (request.Name is not null && request.Name != secret.Name)
        {
            errors.Add("name", "A secret keeps its name: workflows read it by that name. Create another one instead.");
        }

        if (request.Value is { Length: 0 })
        {
            errors.Add("value", "Must not be empty; delete the secret to remove it.");
        }

        Validate(request, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        if (request.Value is { } value)
        {
            var sealedValue = cipher.Seal(workspaceId, secret.Name, value);
            secret.Ciphertext = sealedValue.Ciphertext;
            secret.KeyId = sealedValue.KeyId;
        }

        if (request.Description is not null)
        {
            secret.Description = Blank(request.Description);
        }

        secret.Version++;
        secret.UpdatedBy = caller.ActorId;
        secret.UpdatedAt = time.GetUtcNowTruncated();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"Secret '{secret.Name}' was changed by another request at the same time. Retry.");
        }

        return ToResponse(secret, await actors.ResolveAsync([secret.CreatedBy, secret.UpdatedBy], cancellationToken));
    }

    /// <summary>Deletes the secret; runs that name it from then on fail their step with <c>secret_not_found</c>.</summary>
    public async Task<ServiceResult<bool>> DeleteAsync(string workspaceId, string nameOrId, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        var secret = await FindAsync(workspaceId, nameOrId, tracking: false, cancellationToken);
        if (secret is null)
        {
            return NotFound(nameOrId);
        }

        if (precondition is not null && !precondition.IsMetBy(secret.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but secret '{secret.Name}' is at version {secret.Version}.");
        }

        var deleted = await db.Secrets.Where(s => s.Id == secret.Id && s.Version == secret.Version).ExecuteDeleteAsync(cancellationToken);
        return deleted > 0 ? true : ServiceError.Conflict($"Secret '{secret.Name}' was changed by another request at the same time. Retry.");
    }

    /// <summary>
    /// The decrypted value of the workspace's secret <paramref name="name"/>, or null when there is no
    /// such secret. For integrations inside Cadre (a webhook's signing secret, say); whatever the caller
    /// does with the value, it must not store, log or answer it. Throws
    /// <see cref="SecretUnreadableException"/> (naming the secret, not its value) when the value cannot
    /// be decrypted: its key is not among this server's, or the stored ciphertext was altered.
    /// </summary>
    public async Task<string?> RevealAsync(string workspaceId, string name, CancellationToken cancellationToken)
    {
        var found = await db.Secrets.AsNoTracking().Where(s => s.WorkspaceId == workspaceId && s.Name == name)
            .Select(s => new { s.Ciphertext, s.KeyId }).FirstOrDefaultAsync(cancellationToken);
        return found is null ? null : cipher.Open(workspaceId, name, new SealedSecret(found.Ciphertext, found.KeyId));
    }

    /// <summary>
    /// Decrypts the secrets <paramref name="names"/> of the workspace for a run (one query), reporting
    /// those that do not exist or cannot be decrypted instead of failing.
    /// </summary>
    public async Task<ResolvedSecrets> ResolveAsync(string workspaceId, IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0)
        {
            return ResolvedSecrets.None;
        }

        var rows = await db.Secrets.AsNoTracking().Where(s => s.WorkspaceId == workspaceId && names.Contains(s.Name))
            .Select(s => new { s.Name, s.Ciphertext, s.KeyId }).ToListAsync(cancellationToken);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new Dictionary<string, SecretProblem>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var row = rows.FirstOrDefault(r => r.Name == name);
            if (row is null)
            {
                problems[name] = new SecretProblem("secret_not_found", $"The secret '{name}' does not exist in this workspace (…/secrets); create it, or correct the name.");
                continue;
            }

            try
            {
                values[name] = cipher.Open(workspaceId, name, new SealedSecret(row.Ciphertext, row.KeyId));
            }
            catch (SecretUnreadableException ex)
            {
                problems[name] = new SecretProblem("secret_unreadable", ex.Message);
            }
        }

        return new ResolvedSecrets(values, problems);
    }

    /// <summary>The current key, the keys this server reads with, and how many secrets each key sealed (in all workspaces).</summary>
    public async Task<EncryptionStatusResponse> EncryptionStatusAsync(CancellationToken cancellationToken)
    {
        var counts = await db.Secrets.AsNoTracking().GroupBy(s => s.KeyId).Select(g => new { KeyId = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var current = keys.Current.Id;
        var usage = keys.Readable.Keys.Union(counts.Select(c => c.KeyId), StringComparer.Ordinal)
            .Select(id => new EncryptionKeyUsage(id, id == current, keys.Readable.ContainsKey(id), counts.FirstOrDefault(c => c.KeyId == id)?.Count ?? 0))
            .OrderByDescending(k => k.Current).ThenByDescending(k => k.Secrets).ThenBy(k => k.KeyId, StringComparer.Ordinal)
            .ToList();
        return new EncryptionStatusResponse(current, keys.Source, counts.Sum(c => c.Count), usage);
    }

    /// <summary>
    /// Re-encrypts every secret (all workspaces) that an earlier key sealed under the current key, in
    /// batches. A secret changed meanwhile is left to its writer (it is under the current key then);
    /// one that cannot be read is reported, never a reason to stop. Versions do not change: the values are the same.
    /// </summary>
    public async Task<EncryptionRotationResponse> RotateAsync(CancellationToken cancellationToken)
    {
        var current = keys.Current.Id;
        var alreadyCurrent = await db.Secrets.CountAsync(s => s.KeyId == current, cancellationToken);
        var reEncrypted = 0;
        var failed = new List<EncryptionRotationFailure>();
        string? after = null;
        while (true)
        {
#pragma warning disable CA1309 // Translated to SQL >, which compares IDs bytewise (their columns use the C collation).
            var batch = await db.Secrets.AsNoTracking()
                .Where(s => s.KeyId != current && (after == null || string.Compare(s.Id, after) > 0))
                .OrderBy(s => s.Id).Take(RotationBatch)
                .Join(db.Workspaces, s => s.WorkspaceId, w => w.Id, (s, w) => new { s.Id, s.WorkspaceId, Workspace = w.Name, s.Name, s.Ciphertext, s.KeyId, s.Version })
                .ToListAsync(cancellationToken);
#pragma warning restore CA1309
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var row in batch)
            {
                string value;
                try
                {
                    value = cipher.Open(row.WorkspaceId, row.Name, new SealedSecret(row.Ciphertext, row.KeyId));
                }
                catch (SecretUnreadableException ex)
                {
                    failed.Add(new EncryptionRotationFailure(row.Workspace, row.Name, ex.Message));
                    continue;
                }

                var resealed = cipher.Seal(row.WorkspaceId, row.Name, value);
                var oldKey = row.KeyId;
                var updated = await db.Secrets.Where(s => s.Id == row.Id && s.Version == row.Version && s.KeyId == oldKey)
                    .ExecuteUpdateAsync(s => s.SetProperty(x => x.Ciphertext, resealed.Ciphertext).SetProperty(x => x.KeyId, resealed.KeyId), cancellationToken);
                reEncrypted += updated;
            }

            after = batch[^1].Id;
        }

        return new EncryptionRotationResponse(current, reEncrypted, alreadyCurrent, failed);
    }

    private static void Validate(SecretRequest request, ValidationErrors errors)
    {
        if (request.Value is { } value && Encoding.UTF8.GetByteCount(value) > SecretRules.MaxValueBytes)
        {
            errors.Add("value", $"Must be at most {SecretRules.MaxValueBytes / 1024} KiB (UTF-8).");
        }

        if (request.Description is { } description && (description.Length > SecretRules.MaxDescriptionLength || description.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))))
        {
            errors.Add("description", $"Must be at most {SecretRules.MaxDescriptionLength} characters, without control characters.");
        }
    }

    private Task<Secret?> FindAsync(string workspaceId, string nameOrId, bool tracking, CancellationToken cancellationToken)
    {
        var secrets = tracking ? db.Secrets : db.Secrets.AsNoTracking();
        return secrets.FirstOrDefaultAsync(s => s.WorkspaceId == workspaceId && (s.Id == nameOrId || s.Name == nameOrId), cancellationToken);
    }

    private static SecretResponse ToResponse(Secret secret, IReadOnlyDictionary<string, Actor> resolved) =>
        new(secret.Id, secret.Name, secret.Description, secret.Version, resolved.Find(secret.CreatedBy), resolved.Find(secret.UpdatedBy), secret.CreatedAt, secret.UpdatedAt);

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static ServiceError NotFound(string nameOrId) => ServiceError.NotFound($"Secret '{nameOrId}' not found.");
}
