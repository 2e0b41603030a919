using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Files;
using Cadre.Server.Tests.Workflows;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Battery item 13: bodies of 1, 10 (and, full, 100) MiB with a Content-Length, and chunked bodies
/// without end, sent to a server process's JSON create, webhook intake, file upload and persona import.
/// Every body over its endpoint's limit is refused with a 413 problem before it is buffered, so the
/// server's memory hardly moves; a body within a larger limit (the import's) is read and refused as bad input.
/// </summary>
[Trait("Battery", "13")]
[Collection(ServerUnderTest.Collection)]
public sealed class OversizedInputTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;

    /// <summary>The bound on resident memory growth while the refused bodies arrive.</summary>
    private const long GrowthBound = 50 * MiB;

    private sealed record Target(string Name, string Method, string Path, string ContentType, long Limit, string Prefix, string Suffix, bool Authorized = true);

    [Fact]
    public async Task OversizedBodies_AreRefusedWith413BeforeBuffering_AndMemoryHardlyGrows()
    {
        await using var server = await ServerUnderTest.StartAsync("oversized");
        var targets = await TargetsAsync(server);
        long[] sizes = BatteryScale.IsFull ? [1 * MiB, 10 * MiB, 100 * MiB] : [1 * MiB, 10 * MiB];
        var uri = new Uri(server.Process.Url);
        var failures = new List<string>();

        // Warm up every endpoint with a small body, and the refusal once, so the baseline includes what a first request loads.
        foreach (var target in targets)
        {
            await SendAsync(uri, server, target, 4096);
        }

        await SendAsync(uri, server, targets[0], null);

        // Refused: every declared length over its endpoint's limit, and chunked bodies to the endpoints with the 1 MiB limit.
        // Then read: a chunked import (its limit is 32 MiB, so that much is read before the 413) and bodies within a limit.
        var refusals = targets.SelectMany(t => sizes.Where(s => s > t.Limit).Select(s => (Target: t, Size: (long?)s)))
            .Concat(targets.Where(t => t.Limit <= MiB).Select(t => (Target: t, Size: (long?)null)))
            .ToList();
        var reads = targets.Where(t => t.Limit > MiB).Select(t => (Target: t, Size: (long?)null))
            .Concat(targets.SelectMany(t => sizes.Where(s => s <= t.Limit).Select(s => (Target: t, Size: (long?)s))))
            .ToList();
        var baseline = server.ResidentBytes();
        long peakRefusing = baseline, sentBeyondLimit = 0;
        foreach (var (target, size) in refusals)
        {
            var (answer, peak) = await SendMeasuredAsync(uri, server, target, size);
            peakRefusing = Math.Max(peakRefusing, peak);
            var what = $"{target.Name} {(size is { } n ? $"{n / MiB} MiB" : "chunked")}: {answer}, RSS peak {peak / MiB} MiB";
            output.WriteLine(what);
            if (answer.Status != 413 || answer.ContentType != "application/problem+json")
            {
                failures.Add(what);
            }

            // Chunked, the server reads to its limit and stops there; the kernel's socket buffers take a few MiB more.
            if (size is null)
            {
                sentBeyondLimit = Math.Max(sentBeyondLimit, answer.BytesSentBeforeAnswer - target.Limit);
            }
        }

        var peakReading = server.ResidentBytes();
        foreach (var (target, size) in reads)
        {
            var (answer, peak) = await SendMeasuredAsync(uri, server, target, size);
            peakReading = Math.Max(peakReading, peak);
            var what = $"{target.Name} {(size is { } n ? $"{n / MiB} MiB" : "chunked")} (read, limit {target.Limit / MiB} MiB): {answer}, RSS peak {peak / MiB} MiB";
            output.WriteLine(what);
            var expected = size is null ? answer.Status == 413 : answer.Status is >= 200 and < 500;
            if (!expected || (answer.Status >= 400 && answer.ContentType != "application/problem+json"))
            {
                failures.Add(what);
            }
        }

        var healthy = await server.IsHealthyAsync();
        var end = server.ResidentBytes();
        BatteryReport.Write(output, 13, "oversized bodies",
            ("refused unread", refusals.Count), ("read (import limit)", reads.Count), ("wrong answers", failures.Count),
            ("RSS start MiB", baseline / MiB), ("RSS peak refusing MiB", peakRefusing / MiB), ("RSS peak reading MiB", peakReading / MiB),
            ("RSS end MiB", end / MiB), ("chunked read past limit KiB", sentBeyondLimit / 1024));

        failures.ShouldBeEmpty(string.Join('\n', failures));
        healthy.ShouldBeTrue("the server answers /healthz after the oversized bodies");
        (peakRefusing - baseline).ShouldBeLessThan(GrowthBound, $"resident memory grew from {baseline / MiB} MiB to {peakRefusing / MiB} MiB while refusing");
        await (await server.Admin.GetAsync(server.WorkspacePath)).ShouldBeAsync(HttpStatusCode.OK);
    }

    private static async Task<(RawHttp.Answer Answer, long PeakResident)> SendMeasuredAsync(Uri uri, ServerUnderTest server, Target target, long? size)
    {
        await using var sampler = new PeakSampler(server.ResidentBytes);
        var answer = await SendAsync(uri, server, target, size);
        return (answer, sampler.Peak);
    }

    private static Task<RawHttp.Answer> SendAsync(Uri uri, ServerUnderTest server, Target target, long? size)
    {
        var headers = new List<(string, string)> { ("Content-Type", target.ContentType) };
        if (target.Authorized)
        {
            headers.Add(("Authorization", $"Bearer {server.AdminKey}"));
        }

        // Chunked bodies go on until the server stops them, or to well past the limit.
        return RawHttp.SendLargeAsync(uri, target.Method, target.Path, headers, target.Prefix, target.Suffix, size, cap: target.Limit + (64 * MiB), TimeSpan.FromSeconds(120));
    }

    /// <summary>One endpoint of each kind; bodies are JSON that opens a string and goes on, so nothing refuses them before their size does.</summary>
    private static async Task<IReadOnlyList<Target>> TargetsAsync(ServerUnderTest server)
    {
        var workflow = WorkflowApi.Body("hook");
        workflow["steps"] = JsonNode.Parse("""[{"id": "only", "activity": {"uniqueIdentifier": "transform"}, "input": {"n": 1}}]""");
        workflow["type"] = "webhook";
        workflow["trigger"] = JsonNode.Parse("""{"webhook": {"mode": "async"}}""");
        await (await server.Admin.PostAsync($"{server.WorkspacePath}/workflows", Api.JsonContent(workflow))).ShouldBeAsync(HttpStatusCode.Created);
        await (await server.Admin.PostAsync($"{server.WorkspacePath}/workflows/hook/activate", null)).ShouldBeAsync(HttpStatusCode.OK);
        var hook = (string)(await (await server.Admin.GetAsync($"{server.WorkspacePath}/workflows/hook/webhook-token")).ReadObjectAsync())["path"]!;

        // A 1 KiB file is declared, so every size here runs past it; a refused upload leaves its URL usable.
        var upload = await server.Admin.PostJsonAsync($"{server.WorkspacePath}/files/upload-url",
            new { name = "notes.txt", contentType = "text/plain", size = 1024, sha256 = FileApi.Sha256(new byte[1024]) });
        await upload.ShouldBeAsync(HttpStatusCode.Created);
        var uploadUrl = new Uri((string)(await upload.ReadObjectAsync())["uploadUrl"]!, UriKind.RelativeOrAbsolute);

        return
        [
            new("JSON create", "POST", $"{server.WorkspacePath}/personas", "application/json", MiB, "{\"name\": \"big\", \"description\": \"", "\"}"),
            new("webhook intake", "POST", hook, "application/json", MiB, "{\"data\": \"", "\"}", Authorized: false),
            new("file upload", "PUT", uploadUrl.IsAbsoluteUri ? uploadUrl.PathAndQuery : uploadUrl.OriginalString, "text/plain", 1024, "", "", Authorized: false),
            new("persona import", "POST", $"{server.WorkspacePath}/personas/import", "application/json", 32 * MiB, "[{\"name\": \"big\", \"description\": \"", "\"}]"),
        ];
    }
}
