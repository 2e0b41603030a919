using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Files;

/// <summary>
/// Uploaded files: a pending record and its upload (the bytes checked while they stream to the
/// <see cref="IFileStore"/>), reading, deleting, the runs that use them, and the clean-up of those
/// nobody used. Status changes are conditional updates, so concurrent uploads, deletes, run starts and
/// clean-ups on any number of nodes settle each file one way.
/// </summary>
internal sealed partial class FileService(
    CadreDbContext db, IdGenerator ids, TimeProvider time, IFileStore store, IOptions<FilesOptions> options, ActorService actors, ILogger<FileService> logger)
{
    public const int MaxNameLength = 255;

    /// <summary>How long after its URL expired a pending upload is cleaned up: an upload begun just before the deadline may still finish.</summary>
    public static readonly TimeSpan UploadGrace = TimeSpan.FromHours(1);

    /// <summary>How many files each clean-up pass deletes at most (the next pass takes the rest).</summary>
    private const int PurgeBatch = 200;

    /// <summary>Runs in these statuses are over: a file they used may be deleted.</summary>
    private static readonly string[] RunEnded = ["succeeded", "failed", "compensated"];

    public static IReadOnlyList<string> Statuses { get; } = ["pending", "ready"];

    /// <summary>Records a pending file; its bytes come through the upload URL the caller signs for <see cref="CreatedUpload.ExpiresAt"/>.</summary>
    public async Task<ServiceResult<CreatedUpload>> CreateUploadAsync(string workspaceId, CreateUploadRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var settings = options.Value;
        var errors = new ValidationErrors();
        if (request.Name is not { Length: > 0 and <= MaxNameLength } name || name.Any(c => char.IsControl(c) || c is '/' or '\\') || string.IsNullOrWhiteSpace(name))
        {
            errors.Add("name", $"Is required: the file's name, 1 to {MaxNameLength} characters, without slashes or control characters.");
        }

        var allowed = settings.ContentTypes();
        var mediaType = FilesOptions.MediaType(request.ContentType);
        if (mediaType is null)
        {
            errors.Add("contentType", "Is required: the file's media type, such as image/png.");
        }
        else if (!allowed.Contains(mediaType))
        {
            errors.Add("contentType", $"'{mediaType}' is not allowed here. Allowed: {string.Join(", ", allowed.Order(StringComparer.Ordinal))}.");
        }

        if (request.Size is not { } size || size < 0)
        {
            errors.Add("size", "Is required: the file's size in bytes.");
        }
        else if (size > settings.MaxBytes)
        {
            errors.Add("size", $"Is larger than the largest file allowed, {settings.MaxBytes} bytes ({FilesOptions.Readable(settings.MaxBytes)}).");
        }

        if (request.Sha256 is { } sha && !Sha256Hex().IsMatch(sha))
        {
            errors.Add("sha256", "Must be a SHA-256 in hex: 64 characters 0-9 and a-f.");
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var now = time.GetUtcNowTruncated();
        var uploadExpiresAt = now + settings.UploadUrlLifetime;
        var file = new StoredFile
        {
            Id = ids.NewId(StoredFile.IdPrefix),
            WorkspaceId = workspaceId,
            Name = request.Name!,
            ContentType = mediaType!,
            Size = request.Size!.Value,
            Sha256 = request.Sha256?.ToLowerInvariant(),
            Status = "pending",
            CreatedBy = caller.ActorId,
            CreatedAt = now,
            UploadExpiresAt = uploadExpiresAt,
            ExpiresAt = uploadExpiresAt + UploadGrace,
        };
        db.Files.Add(file);
        await db.SaveChangesAsync(cancellationToken);
        return new CreatedUpload(await ResponseAsync(file, cancellationToken), uploadExpiresAt);
    }

    public async Task<FileResponse?> GetAsync(string workspaceId, string fileId, CancellationToken cancellationToken) =>
        await FindAsync(workspaceId, fileId, cancellationToken) is { } file ? await ResponseAsync(file, cancellationToken) : null;

    public async Task<ServiceResult<Page<FileResponse>>> ListAsync(string workspaceId, FileQuery filter, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = db.Files.AsNoTracking().Where(f => f.WorkspaceId == workspaceId && f.Status != "deleting");
        if (filter.Status is { } status)
        {
            if (!Statuses.Contains(status))
            {
                return ServiceError.Validation("status", $"Must be one of {string.Join(", ", Statuses)}.");
            }

            query = query.Where(f => f.Status == status);
        }

        if (filter.Run is { } runId)
        {
            query = query.Where(f => db.RunFiles.Any(r => r.FileId == f.Id && r.RunId == runId));
        }

        var found = await query.ToPageAsync(f => f.Id, page, cancellationToken);
        var resolved = await actors.ResolveAsync(found.Items.Select(f => f.CreatedBy), cancellationToken);
        return found.Map(f => Response(f, resolved));
    }

    /// <summary>A ready file's bytes; 404 for no such file, 409 while it is still pending.</summary>
    public async Task<ServiceResult<FileContent>> OpenAsync(string workspaceId, string fileId, CancellationToken cancellationToken)
    {
        if (await FindAsync(workspaceId, fileId, cancellationToken) is not { } file)
        {
            return ServiceError.NotFound($"File '{fileId}' not found.");
        }

        if (file.Status != "ready")
        {
            return ServiceError.Conflict($"File '{fileId}' has no content yet: its bytes were not uploaded (it is {file.Status}).");
        }

        if (await store.OpenReadAsync(FileKeys.For(file.WorkspaceId, file.Id), cancellationToken) is not { } content)
        {
            // The record says ready but the store has nothing: lost outside Cadre (a restored database without its files directory).
            logger.LogWarning("File {FileId} is ready but its bytes are missing from the file store", file.Id);
            return ServiceError.NotFound($"File '{fileId}' has lost its bytes: the file store has nothing under its key.");
        }

        return new FileContent(await ResponseAsync(file, cancellationToken), content);
    }

    /// <summary>
    /// Deletes the file, bytes and record. Refused (409) while a run that uses it is still in progress:
    /// the run may still give it to a model. The record is marked first, so a clean-up finishes what a
    /// crash between the bytes and the row leaves.
    /// </summary>
    public async Task<ServiceResult<bool>> DeleteAsync(string workspaceId, string fileId, CancellationToken cancellationToken)
    {
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            // The mark is also the row's lock: a run start referencing the file waits for this transaction, then finds it gone.
            var marked = await db.Files.Where(f => f.Id == fileId && f.WorkspaceId == workspaceId && (f.Status == "pending" || f.Status == "ready"))
                .ExecuteUpdateAsync(set => set.SetProperty(f => f.Status, "deleting"), cancellationToken);
            if (marked == 0)
            {
                return ServiceError.NotFound($"File '{fileId}' not found.");
            }

            var busy = await db.RunFiles.Where(r => r.FileId == fileId)
                .Join(db.Runs, r => r.RunId, run => run.Id, (_, run) => run)
                .Where(run => !RunEnded.Contains(run.Status))
                .Select(run => run.DisplayId).FirstOrDefaultAsync(cancellationToken);
            if (busy is not null)
            {
                await transaction.RollbackAsync(cancellationToken);
                return ServiceError.Conflict($"File '{fileId}' is used by run {busy}, which is still in progress. Delete it once the run has ended.");
            }

            await transaction.CommitAsync(cancellationToken);
        }

        await RemoveAsync(workspaceId, fileId, cancellationToken);
        return true;
    }

    /// <summary>
    /// Takes an upload's bytes: checks the Content-Type and the declared size before reading, then
    /// streams the body to the store, refusing it part-way when it runs past the declared size, and at
    /// its end when it is short or its SHA-256 is not the declared one. Nothing of a refused upload is
    /// kept, and the URL may be used again until it expires; after a good one the file is ready and the
    /// URL is spent. The caller has checked the URL's signature.
    /// </summary>
    public async Task<UploadResult> UploadAsync(string fileId, string? contentType, long? contentLength, Stream body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var file = await db.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Id == fileId, cancellationToken);
        if (Refusal(file) is { } refused)
        {
            return refused;
        }

        if (FilesOptions.MediaType(contentType) != file!.ContentType)
        {
            return UploadResult.Refused(UploadProblem.WrongContentType,
                $"This upload URL takes Content-Type {file.ContentType}, as declared when it was made, not {contentType ?? "none"}.");
        }

        if (contentLength > file.Size)
        {
            return UploadResult.Refused(UploadProblem.TooLarge, $"Content-Length {contentLength} is more than the {file.Size} bytes declared for this upload; nothing was read.");
        }

        if (contentLength < file.Size)
        {
            return UploadResult.Refused(UploadProblem.TooShort, $"Content-Length {contentLength} is less than the {file.Size} bytes declared for this upload; nothing was read.");
        }

        // The claim: one PUT at a time streams a file's bytes.
        var now = time.GetUtcNowTruncated();
        if (await db.Files.Where(f => f.Id == fileId && f.Status == "pending" && f.UploadStartedAt == null)
                .ExecuteUpdateAsync(set => set.SetProperty(f => f.UploadStartedAt, now), cancellationToken) == 0)
        {
            return Refusal(await db.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Id == fileId, cancellationToken))
                ?? UploadResult.Refused(UploadProblem.InProgress, "Another upload to this URL is sending its bytes at this moment.");
        }

        var key = FileKeys.For(file.WorkspaceId, file.Id);
        string sha256;
        try
        {
            await using var checkedBody = new CheckedUploadStream(body, file.Size, file.Sha256);
            await store.PutAsync(key, checkedBody, cancellationToken);
            sha256 = checkedBody.Sha256!;
        }
        catch (UploadRefusedException ex)
        {
            await ReleaseAsync(fileId);
            return UploadResult.Refused(ex.Problem, ex.Message);
        }
        catch
        {
            // Cut off, over the server's body limit, or the client went away: the URL may be used again.
            await ReleaseAsync(fileId);
            throw;
        }

        var uploadedAt = time.GetUtcNowTruncated();
        var expiresAt = uploadedAt + options.Value.UnreferencedLifetime;
        if (await db.Files.Where(f => f.Id == fileId && f.Status == "pending" && f.UploadStartedAt != null)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(f => f.Status, "ready")
                    .SetProperty(f => f.Sha256, sha256)
                    .SetProperty(f => f.UploadedAt, uploadedAt)
                    .SetProperty(f => f.ExpiresAt, expiresAt)
                    .SetProperty(f => f.UploadStartedAt, (DateTime?)null), CancellationToken.None) == 0)
        {
            // Deleted (or cleaned up) while the bytes streamed in: they belong to nothing.
            await store.DeleteAsync(key, CancellationToken.None);
            return UploadResult.Refused(UploadProblem.Gone, $"File '{fileId}' was deleted while its bytes were uploaded.");
        }

        return new UploadResult(await GetAsync(file.WorkspaceId, fileId, cancellationToken), null, null);
    }

    /// <summary>
    /// Checks the files a run start names (<c>attachments</c> items with a <c>storageId</c>, and
    /// <c>referenceImageIds</c>): each must be a ready file of the workspace, and a reference image an
    /// image. Problems go into <paramref name="errors"/> by JSON path.
    /// </summary>
    public async Task<RunFileRefs> ResolveForRunAsync(
        string workspaceId, JsonArray? attachments, IReadOnlyList<string?>? referenceImageIds, ValidationErrors errors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var wanted = new List<string>();
        for (var i = 0; i < (attachments?.Count ?? 0); i++)
        {
            if (attachments![i] is JsonObject item && item.TryGetPropertyValue("storageId", out var storageId))
            {
                if (storageId is JsonValue value && value.TryGetValue<string>(out var id) && id.Length is > 0 and <= 100)
                {
                    wanted.Add(id);
                }
                else
                {
                    errors.Add($"attachments[{i}].storageId", "Must be the ID of a file of this workspace (file_…).");
                }
            }
        }

        for (var i = 0; i < (referenceImageIds?.Count ?? 0); i++)
        {
            if (referenceImageIds![i] is { Length: > 0 and <= 100 } id)
            {
                wanted.Add(id);
            }
            else
            {
                errors.Add($"referenceImageIds[{i}]", "Must be the ID of an image file of this workspace (file_…).");
            }
        }

        if (wanted.Count == 0)
        {
            return RunFileRefs.None(attachments);
        }

        var distinct = wanted.Distinct(StringComparer.Ordinal).ToList();
        var files = await db.Files.AsNoTracking().Where(f => f.WorkspaceId == workspaceId && distinct.Contains(f.Id) && f.Status != "deleting")
            .ToDictionaryAsync(f => f.Id, StringComparer.Ordinal, cancellationToken);

        JsonArray? resolvedAttachments = null;
        if (attachments is not null)
        {
            resolvedAttachments = [];
            for (var i = 0; i < attachments.Count; i++)
            {
                var item = attachments[i]?.DeepClone();
                if (item is JsonObject fields && fields["storageId"] is JsonValue value && value.TryGetValue<string>(out var id)
                    && Usable(files, id, $"attachments[{i}].storageId", errors) is { } file)
                {
                    Describe(fields, file);
                }

                resolvedAttachments.Add(item);
            }
        }

        var referenceImages = new JsonArray();
        for (var i = 0; i < (referenceImageIds?.Count ?? 0); i++)
        {
            if (referenceImageIds![i] is { } id && Usable(files, id, $"referenceImageIds[{i}]", errors) is { } file)
            {
                if (!file.ContentType.StartsWith("image/", StringComparison.Ordinal))
                {
                    errors.Add($"referenceImageIds[{i}]", $"File '{id}' is {file.ContentType}, not an image.");
                }

                referenceImages.Add(Describe([], file));
            }
        }

        return new RunFileRefs(resolvedAttachments, referenceImages, distinct);
    }

    /// <summary>
    /// In a run start's transaction: marks the files used (they no longer expire) and links them to the
    /// run. False when one is no longer ready (deleted or cleaned up since it was checked): the start
    /// must not commit.
    /// </summary>
    public async Task<bool> ReferenceAsync(string runId, IReadOnlyList<string> fileIds, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fileIds);
        if (fileIds.Count == 0)
        {
            return true;
        }

        var marked = await db.Files.Where(f => fileIds.Contains(f.Id) && f.Status == "ready")
            .ExecuteUpdateAsync(set => set.SetProperty(f => f.ExpiresAt, (DateTime?)null).SetProperty(f => f.ReferencedAt, f => f.ReferencedAt ?? now), cancellationToken);
        if (marked != fileIds.Count)
        {
            return false;
        }

        db.RunFiles.AddRange(fileIds.Select(id => new RunFile { RunId = runId, FileId = id }));
        return true;
    }

    /// <summary>A ready file's record and bytes, for a model step; null when it is gone.</summary>
    public async Task<(StoredFile File, byte[] Bytes)?> ReadAsync(string workspaceId, string fileId, CancellationToken cancellationToken)
    {
        var file = await db.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Id == fileId && f.WorkspaceId == workspaceId && f.Status == "ready", cancellationToken);
        if (file is null)
        {
            return null;
        }

        await using var content = await store.OpenReadAsync(FileKeys.For(workspaceId, fileId), cancellationToken);
        if (content is null)
        {
            return null;
        }

        using var buffer = new MemoryStream((int)Math.Min(file.Size, int.MaxValue));
        await content.CopyToAsync(buffer, cancellationToken);
        return (file, buffer.ToArray());
    }

    /// <summary>
    /// The clean-up (every node, every housekeeping pass): marks expired files (pending uploads whose URL
    /// lapsed, ready files nobody used in time), then deletes the bytes and records of every marked file,
    /// including those a crash left marked. Doing it twice, or on two nodes at once, is harmless.
    /// </summary>
    public async Task<int> PurgeExpiredAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNowTruncated();
        await db.Files.Where(f => (f.Status == "pending" || f.Status == "ready") && f.ExpiresAt != null && f.ExpiresAt < now)
            .ExecuteUpdateAsync(set => set.SetProperty(f => f.Status, "deleting"), cancellationToken);
        var deleted = 0;
        while (true)
        {
            var batch = await db.Files.AsNoTracking().Where(f => f.Status == "deleting").OrderBy(f => f.Id).Take(PurgeBatch)
                .Select(f => new { f.Id, f.WorkspaceId }).ToListAsync(cancellationToken);
            foreach (var file in batch)
            {
                await RemoveAsync(file.WorkspaceId, file.Id, cancellationToken);
            }

            deleted += batch.Count;
            if (batch.Count < PurgeBatch)
            {
                break;
            }
        }

        // Parts of uploads a crash cut off, long after any upload could still be going on.
        await store.CleanUpAsync(time.GetUtcNow() - options.Value.UploadUrlLifetime - UploadGrace, cancellationToken);
        return deleted;
    }

    /// <summary>After a workspace is deleted (its records went with it): its files' bytes.</summary>
    public Task DeleteWorkspaceBytesAsync(string workspaceId, CancellationToken cancellationToken) =>
        store.DeletePrefixAsync(FileKeys.WorkspacePrefix(workspaceId), cancellationToken);

    /// <summary>Deletes a marked file's bytes, then its record; should the bytes resist, the record stays marked for the next clean-up.</summary>
    private async Task RemoveAsync(string workspaceId, string fileId, CancellationToken cancellationToken)
    {
        try
        {
            await store.DeleteAsync(FileKeys.For(workspaceId, fileId), cancellationToken);
        }
        catch (IOException ex)
        {
            logger.LogWarning(ex, "The bytes of deleted file {FileId} could not be removed; the clean-up tries again", fileId);
            return;
        }

        await db.Files.Where(f => f.Id == fileId && f.Status == "deleting").ExecuteDeleteAsync(cancellationToken);
    }

    private Task<int> ReleaseAsync(string fileId) =>
        db.Files.Where(f => f.Id == fileId && f.Status == "pending")
            .ExecuteUpdateAsync(set => set.SetProperty(f => f.UploadStartedAt, (DateTime?)null), CancellationToken.None);

    private static UploadResult? Refusal(StoredFile? file) => file switch
    {
        null or { Status: "deleting" } => UploadResult.Refused(UploadProblem.Gone, "This upload's file no longer exists (deleted, or expired before its bytes came)."),
        { Status: "ready" } => UploadResult.Refused(UploadProblem.AlreadyUsed, $"This upload URL was used already: file '{file.Id}' has its bytes. Ask for a new URL to upload another file."),
        _ => null,
    };

    private static StoredFile? Usable(Dictionary<string, StoredFile> files, string id, string path, ValidationErrors errors)
    {
        if (!files.TryGetValue(id, out var file))
        {
            errors.Add(path, $"No file '{id}' in this workspace. Upload it first (POST …/files/upload-url, then PUT its bytes).");
            return null;
        }

        if (file.Status != "ready")
        {
            errors.Add(path, $"File '{id}' is still pending: PUT its bytes to its upload URL first.");
            return null;
        }

        return file;
    }

    /// <summary>What steps read of a file (<c>context.attachments[i]</c>): its storage ID and facts, never its bytes or a URL.</summary>
    private static JsonObject Describe(JsonObject fields, StoredFile file)
    {
        fields["storageId"] = file.Id;
        fields["name"] = file.Name;
        fields["contentType"] = file.ContentType;
        fields["size"] = file.Size;
        fields["sha256"] = file.Sha256;
        return fields;
    }

    private Task<StoredFile?> FindAsync(string workspaceId, string fileId, CancellationToken cancellationToken) =>
        db.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Id == fileId && f.WorkspaceId == workspaceId && f.Status != "deleting", cancellationToken);

    private async Task<FileResponse> ResponseAsync(StoredFile file, CancellationToken cancellationToken) =>
        Response(file, await actors.ResolveAsync([file.CreatedBy], cancellationToken));

    private static FileResponse Response(StoredFile file, IReadOnlyDictionary<string, Actor> actors) => new(
        file.Id, file.Name, file.ContentType, file.Size, file.Sha256, file.Status, actors.Find(file.CreatedBy), file.CreatedAt,
        file.UploadExpiresAt, file.UploadedAt, file.ReferencedAt, file.ExpiresAt);

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial System.Text.RegularExpressions.Regex Sha256Hex();
}
