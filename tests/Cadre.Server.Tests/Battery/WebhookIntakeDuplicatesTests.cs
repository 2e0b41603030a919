using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Cadre.Triggers;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Battery item 4: a signed webhook gets every delivery several times (some copies at once), mixed with
/// deliveries whose signature is wrong, stale or missing. Each delivery ID starts exactly one run; no
/// badly signed delivery starts anything.
/// </summary>
[Trait("Battery", "4")]
public sealed class WebhookIntakeDuplicatesTests(ITestOutputHelper output)
{
    private const string Secret = "whsec_YmF0dGVyeSBpdGVtIGZvdXIgc2lnbmluZyBrZXk=";
    private const int Copies = 4;

    private enum Kind
    {
        Good,
        WrongSecret,
        Stale,
        Missing,
    }

    private sealed record Delivery(string Id, int Number, Kind Kind);

    [Theory, AllDatabases]
    public async Task Redeliveries_StartOneRunPerId_AndBadSignaturesStartNothing(DatabaseKind db)
    {
        var ids = BatteryScale.Pick(50, 200);
        var deliveries = BatteryScale.Pick(250, 1_000);
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/secrets", new { name = "signing", value = Secret })).ShouldBeAsync(HttpStatusCode.Created);
        var name = await workspace.CreateFlowAsync(
            [new { id = "echo", activity = new { uniqueIdentifier = "transform" }, input = new { n = "{{ context.body.n }}" } }],
            new { type = "webhook", trigger = new { webhook = new { signature = new { style = "standard", secrets = new[] { "signing" } } } } });
        await (await workspace.Owner.PostAsync(workspace.Workflows($"/{name}/activate"), null)).ShouldBeAsync(HttpStatusCode.OK);
        var path = (string)(await (await workspace.Owner.GetAsync(workspace.Workflows($"/{name}/webhook-token"))).ReadObjectAsync())["path"]!;
        var batches = Plan(ids, deliveries);
        using var client = new HttpClient { BaseAddress = workspace.Owner.BaseAddress };
        var answers = new ConcurrentBag<(Delivery Delivery, HttpStatusCode Status, string? RunId)>();

        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (batch, cancellationToken) =>
        {
            // A batch's copies go out at once: concurrent redeliveries of one ID.
            await Task.WhenAll(batch.Select(async delivery =>
            {
                using var response = await client.SendAsync(Request(path, delivery), cancellationToken);
                var runId = response.StatusCode == HttpStatusCode.Accepted ? (string?)(await response.ReadObjectAsync())["runId"] : null;
                answers.Add((delivery, response.StatusCode, runId));
            }));
        });

        var runs = await workspace.ListAllAsync(workspace.Workflows($"/{name}/runs"));
        var ended = await Eventually.HoldsAsync(
            async () => (await workspace.ListAllAsync(workspace.Workflows($"/{name}/runs"))).Count(r => (string)r["status"]! == "succeeded"),
            count => count >= runs.Count, "every run succeeded", seconds: 120);
        var good = answers.Where(a => a.Delivery.Kind == Kind.Good).ToList();
        var bad = answers.Where(a => a.Delivery.Kind != Kind.Good).ToList();
        var runsPerId = good.Where(a => a.RunId is not null).GroupBy(a => a.Delivery.Id).ToDictionary(g => g.Key, g => g.Select(a => a.RunId).Distinct().Count());
        var lost = ids - runsPerId.Count;
        var duplicated = Math.Max(0, runs.Count - ids) + runsPerId.Values.Sum(n => n - 1);
        var unauthorized = bad.Count(a => a.Status == HttpStatusCode.Unauthorized);
        var serverErrors = answers.Count(a => (int)a.Status >= 500);
        BatteryReport.Reliability(output, 4, $"webhook intake, {db}", ids, ended, lost, duplicated, runs.Count - ended,
            ("deliveries", answers.Count), ("distinct ids", ids), ("runs", runs.Count), ("bad signatures", bad.Count), ("401s", unauthorized), ("5xx", serverErrors));

        answers.Count.ShouldBe(deliveries);
        serverErrors.ShouldBe(0);
        good.ShouldAllBe(a => a.Status == HttpStatusCode.Accepted);
        bad.Count.ShouldBe(deliveries - ids * Copies);
        unauthorized.ShouldBe(bad.Count);
        runs.Count.ShouldBe(ids);
        lost.ShouldBe(0);
        duplicated.ShouldBe(0);
        runs.Select(r => (string)r["id"]!).ShouldBe(good.Select(a => a.RunId!).Distinct(), ignoreOrder: true);
        ended.ShouldBe(ids);
    }

    /// <summary>
    /// Every ID <see cref="Copies"/> times, well signed, and the rest of <paramref name="deliveries"/> badly
    /// signed (half with a good delivery's ID, half with an ID of their own), shuffled; every fifth ID's
    /// copies in one batch, sent together.
    /// </summary>
    private static List<Delivery[]> Plan(int ids, int deliveries)
    {
        var random = new Random(4);
        var batches = new List<Delivery[]>();
        for (var i = 0; i < ids; i++)
        {
            var copies = Enumerable.Repeat(new Delivery($"msg_{i}", i, Kind.Good), Copies).ToArray();
            batches.AddRange(i % 5 == 0 ? [copies] : copies.Select(c => new[] { c }));
        }

        var bad = deliveries - ids * Copies;
        for (var i = 0; i < bad; i++)
        {
            var number = random.Next(ids);
            var id = i % 2 == 0 ? $"msg_{number}" : $"msg_bad_{i}";
            batches.Add([new Delivery(id, number, (Kind)(1 + (i % 3)))]);
        }

        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batches));
        return batches;
    }

    private static HttpRequestMessage Request(string path, Delivery delivery)
    {
        var body = Encoding.UTF8.GetBytes($$"""{"n": {{delivery.Number}}}""");
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", delivery.Id);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var (secret, at) = delivery.Kind switch
        {
            Kind.WrongSecret => ("whsec_bm90IHRoZSB3b3JrZmxvdydzIHNpZ25pbmcga2V5", now),
            Kind.Stale => (Secret, now - 600),
            _ => (Secret, now),
        };
        request.Headers.Add("webhook-timestamp", at.ToString(CultureInfo.InvariantCulture));
        if (delivery.Kind != Kind.Missing)
        {
            request.Headers.Add("webhook-signature", WebhookSignatures.SignStandard(secret, delivery.Id, at, body));
        }

        return request;
    }
}
