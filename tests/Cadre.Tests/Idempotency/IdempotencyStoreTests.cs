using Cadre.Idempotency;
using Cadre.Tests.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Cadre.Tests.Idempotency;

public sealed class IdempotencyStoreTests : IAsyncLifetime
{
    private static readonly byte[] RequestA = [1, 2, 3];
    private static readonly byte[] RequestB = [4, 5, 6];

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero));
    private SqliteTestDatabase _database = null!;
    private IdempotencyStore _store = null!;

    public async Task InitializeAsync()
    {
        _database = await SqliteTestDatabase.CreateAsync();
        _store = new IdempotencyStore(_database, _database.Storage, _clock, Options.Create(new IdempotencyOptions
        {
            Retention = TimeSpan.FromHours(24),
            LockTimeout = TimeSpan.FromMinutes(1),
        }));
    }

    public Task DisposeAsync()
    {
        _database.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Begin_FirstUse_Proceeds()
    {
        (await _store.BeginAsync("key_1", "k", RequestA, default)).ShouldBeOfType<IdempotencyDecision.Proceed>();
    }

    [Fact]
    public async Task Begin_AfterCompletion_ReplaysTheStoredResponse()
    {
        await _store.BeginAsync("key_1", "k", RequestA, default);
        await _store.CompleteAsync("key_1", "k", 201, new Dictionary<string, string> { ["Location"] = "/x" }, [42], default);

        var replay = (await _store.BeginAsync("key_1", "k", RequestA, default)).ShouldBeOfType<IdempotencyDecision.Replay>();

        replay.StatusCode.ShouldBe(201);
        replay.Headers["Location"].ShouldBe("/x");
        replay.Body.ShouldBe(new byte[] { 42 });
    }

    [Fact]
    public async Task Begin_OtherRequestSameKey_IsAMismatch()
    {
        await _store.BeginAsync("key_1", "k", RequestA, default);
        await _store.CompleteAsync("key_1", "k", 201, new Dictionary<string, string>(), [], default);

        (await _store.BeginAsync("key_1", "k", RequestB, default)).ShouldBeOfType<IdempotencyDecision.Mismatch>();
    }

    [Fact]
    public async Task Begin_WhileFirstStillRuns_IsInProgress()
    {
        await _store.BeginAsync("key_1", "k", RequestA, default);
        _clock.Advance(TimeSpan.FromSeconds(20));

        var decision = (await _store.BeginAsync("key_1", "k", RequestA, default)).ShouldBeOfType<IdempotencyDecision.InProgress>();

        decision.RetryAfter.ShouldBe(TimeSpan.FromSeconds(40));
    }

    [Fact]
    public async Task Begin_FirstRequestDiedHoldingTheKey_TakesItOverOnce()
    {
        await _store.BeginAsync("key_1", "k", RequestA, default);
        _clock.Advance(TimeSpan.FromMinutes(2));

        var decisions = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _store.BeginAsync("key_1", "k", RequestA, default)));

        decisions.Count(d => d is IdempotencyDecision.Proceed).ShouldBe(1);
        decisions.Count(d => d is IdempotencyDecision.InProgress).ShouldBe(3);
    }

    [Fact]
    public async Task Begin_ConcurrentFirstUses_OnlyOneProceeds()
    {
        var decisions = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => _store.BeginAsync("key_1", "race", RequestA, default)));

        decisions.Count(d => d is IdempotencyDecision.Proceed).ShouldBe(1);
    }

    [Fact]
    public async Task Begin_AfterRelease_ProceedsAgain()
    {
        await _store.BeginAsync("key_1", "k", RequestA, default);
        await _store.ReleaseAsync("key_1", "k", default);

        (await _store.BeginAsync("key_1", "k", RequestB, default)).ShouldBeOfType<IdempotencyDecision.Proceed>();
    }

    [Fact]
    public async Task Begin_AfterRetention_TreatsTheKeyAsNew()
    {
        await _store.BeginAsync("key_1", "k", RequestA, default);
        await _store.CompleteAsync("key_1", "k", 201, new Dictionary<string, string>(), [], default);
        _clock.Advance(TimeSpan.FromHours(25));

        (await _store.BeginAsync("key_1", "k", RequestB, default)).ShouldBeOfType<IdempotencyDecision.Proceed>();
    }

    [Fact]
    public async Task Keys_AreScopedPerCaller()
    {
        await _store.BeginAsync("key_1", "k", RequestA, default);

        (await _store.BeginAsync("key_2", "k", RequestB, default)).ShouldBeOfType<IdempotencyDecision.Proceed>();
    }

    [Fact]
    public async Task PurgeExpired_RemovesOnlyExpiredRecords()
    {
        await _store.BeginAsync("key_1", "old", RequestA, default);
        _clock.Advance(TimeSpan.FromHours(23));
        await _store.BeginAsync("key_1", "new", RequestA, default);
        _clock.Advance(TimeSpan.FromHours(2));

        (await _store.PurgeExpiredAsync(default)).ShouldBe(1);
        (await _store.BeginAsync("key_1", "new", RequestB, default)).ShouldBeOfType<IdempotencyDecision.Mismatch>();
    }
}
