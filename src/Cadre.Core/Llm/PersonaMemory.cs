using Cadre.Auth;
using Cadre.Common;
using Cadre.Personas;
using Cadre.Storage;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Llm;

/// <summary>One note a persona remembers.</summary>
internal sealed class MemoryNote
{
    public const string IdPrefix = "mem";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string PersonaId { get; init; }

    /// <summary>Set for a session note (memory mode <c>session</c>): it belongs to that run's conversation.</summary>
    public string? RunId { get; init; }

    public required string Content { get; set; }

    /// <summary><c>agent</c> (its memory_write tool), <c>auto</c> (autoMemory) or <c>person</c> (the API).</summary>
    public required string Source { get; init; }

    public string? IdempotencyKey { get; init; }

    public string? CreatedBy { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class MemoryNoteConfiguration : IEntityTypeConfiguration<MemoryNote>
{
    public void Configure(EntityTypeBuilder<MemoryNote> builder)
    {
        builder.ToTable("persona_memories");
        builder.HasKey(n => n.Id);
        builder.HasIndex(n => new { n.PersonaId, n.IdempotencyKey }).IsUnique().HasFilter("idempotency_key IS NOT NULL");
        builder.HasOne<Workspace>().WithMany().HasForeignKey(n => n.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Persona>().WithMany().HasForeignKey(n => n.PersonaId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Runs.Run>().WithMany().HasForeignKey(n => n.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>A note as the API answers it.</summary>
/// <param name="RunId">Set for a session note: the run whose conversation it belongs to.</param>
public sealed record MemoryNoteResponse(string Id, string PersonaId, string? RunId, string Content, string Source, Actor? CreatedBy, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>Body of POST and PATCH …/personas/{persona}/memory.</summary>
public sealed record MemoryNoteRequest(string? Content = null);

/// <summary>
/// What personas remember (their <c>memory</c> policy): notes for the whole persona (mode
/// <c>persistent</c>) or for one run's conversation (mode <c>session</c>), written by the agent's
/// <c>memory_write</c> tool, by <c>autoMemory</c> at the end of a run, or by people through the API.
/// </summary>
internal sealed class MemoryService(CadreDbContext db, StorageProvider storage, IdGenerator ids, TimeProvider time, ActorService actors, PersonaService personas)
{
    public const int MaxContentLength = 4000;

    /// <summary>Most notes an agent is shown at the start of a conversation (the newest).</summary>
    public const int MaxRecalled = 50;

    public async Task<ServiceResult<Page<MemoryNoteResponse>>> ListAsync(string workspaceId, string personaRef, PageRequest page, CancellationToken cancellationToken)
    {
        if (await personas.FindAsync(workspaceId, personaRef, tracking: false, cancellationToken) is not { } persona)
        {
            return PersonaNotFound(personaRef);
        }

        var notes = await db.Memories.AsNoTracking().Where(n => n.PersonaId == persona.Id).OrderBy(n => n.Id).ToListAsync(cancellationToken);
        var resolved = await actors.ResolveAsync(notes.Select(n => n.CreatedBy), cancellationToken);
        return KeysetPagination.ToPage([.. notes.Select(n => ToResponse(n, resolved))], n => n.Id, page);
    }

    public async Task<ServiceResult<MemoryNoteResponse>> CreateAsync(string workspaceId, string personaRef, MemoryNoteRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        if (await personas.FindAsync(workspaceId, personaRef, tracking: false, cancellationToken) is not { } persona)
        {
            return PersonaNotFound(personaRef);
        }

        if (Check(request.Content) is { } invalid)
        {
            return ServiceError.Validation(invalid);
        }

        var note = await WriteAsync(workspaceId, persona.Id, null, request.Content!, "person", null, caller.ActorId, cancellationToken);
        return ToResponse(note, await actors.ResolveAsync([caller.ActorId], cancellationToken));
    }

    public async Task<ServiceResult<MemoryNoteResponse>> UpdateAsync(
        string workspaceId, string personaRef, string noteId, MemoryNoteRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await personas.FindAsync(workspaceId, personaRef, tracking: false, cancellationToken) is not { } persona)
        {
            return PersonaNotFound(personaRef);
        }

        var note = await db.Memories.FirstOrDefaultAsync(n => n.Id == noteId && n.PersonaId == persona.Id, cancellationToken);
        if (note is null)
        {
            return ServiceError.NotFound($"Note '{noteId}' not found in persona '{personaRef}''s memory.");
        }

        if (Check(request.Content) is { } invalid)
        {
            return ServiceError.Validation(invalid);
        }

        note.Content = request.Content!.Trim();
        note.UpdatedAt = time.GetUtcNowTruncated();
        await db.SaveChangesAsync(cancellationToken);
        return ToResponse(note, await actors.ResolveAsync([note.CreatedBy], cancellationToken));
    }

    /// <summary>Forgets one note, or (<paramref name="noteId"/> null) everything the persona remembers.</summary>
    public async Task<ServiceResult<int>> DeleteAsync(string workspaceId, string personaRef, string? noteId, CancellationToken cancellationToken)
    {
        if (await personas.FindAsync(workspaceId, personaRef, tracking: false, cancellationToken) is not { } persona)
        {
            return PersonaNotFound(personaRef);
        }

        var deleted = await db.Memories.Where(n => n.PersonaId == persona.Id && (noteId == null || n.Id == noteId)).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 && noteId is not null ? ServiceError.NotFound($"Note '{noteId}' not found in persona '{personaRef}''s memory.") : deleted;
    }

    /// <summary>The notes an agent of <paramref name="personaId"/> starts with, oldest first: the persona's, or (session mode) this run's.</summary>
    public async Task<IReadOnlyList<string>> RecallAsync(string personaId, string? runId, string? query, CancellationToken cancellationToken)
    {
        var notes = db.Memories.AsNoTracking().Where(n => n.PersonaId == personaId && n.RunId == runId);
        var recalled = await notes.OrderByDescending(n => n.Id).Select(n => n.Content).Take(query is null ? MaxRecalled : 1000).ToListAsync(cancellationToken);
        if (query is not null)
        {
            var words = query.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            recalled = [.. recalled.Where(c => words.All(w => c.Contains(w, StringComparison.OrdinalIgnoreCase))).Take(MaxRecalled)];
        }

        recalled.Reverse();
        return recalled;
    }

    /// <summary>Stores a note once per <paramref name="idempotencyKey"/> (a replayed tool call or a resumed attempt writes it again harmlessly).</summary>
    public async Task<MemoryNote> WriteAsync(
        string workspaceId, string personaId, string? runId, string content, string source, string? idempotencyKey, string? actorId, CancellationToken cancellationToken)
    {
        if (idempotencyKey is not null
            && await db.Memories.AsNoTracking().FirstOrDefaultAsync(n => n.PersonaId == personaId && n.IdempotencyKey == idempotencyKey, cancellationToken) is { } written)
        {
            return written;
        }

        var now = time.GetUtcNowTruncated();
        var note = new MemoryNote
        {
            Id = ids.NewId(MemoryNote.IdPrefix),
            WorkspaceId = workspaceId,
            PersonaId = personaId,
            RunId = runId,
            Content = content.Trim(),
            Source = source,
            IdempotencyKey = idempotencyKey,
            CreatedBy = actorId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Memories.Add(note);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            // The same call raced in from a redelivered attempt: the first one's note stands.
            db.ChangeTracker.Clear();
        }

        return note;
    }

    private static ValidationErrors? Check(string? content)
    {
        if (string.IsNullOrWhiteSpace(content) || content.Length > MaxContentLength)
        {
            var errors = new ValidationErrors();
            errors.Add("content", $"Is required: 1 to {MaxContentLength} characters.");
            return errors;
        }

        return null;
    }

    private static MemoryNoteResponse ToResponse(MemoryNote note, IReadOnlyDictionary<string, Actor> resolved) =>
        new(note.Id, note.PersonaId, note.RunId, note.Content, note.Source, resolved.Find(note.CreatedBy), note.CreatedAt, note.UpdatedAt);

    private static ServiceError PersonaNotFound(string personaRef) => ServiceError.NotFound($"Persona '{personaRef}' not found.");
}
