using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Server.Tests.Files;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Workflows;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Battery item 7: seeded, mutated requests across every operation of the server's own OpenAPI
/// document, sent to a server process whose workspace holds a persona, workflows, a run and the
/// rest, so real IDs carry the requests into handler logic. Never a 5xx, every error a problem, and
/// the process stays alive, healthy and within a memory bound. <c>CADRE_FUZZ_SEED</c> replays a run.
/// (Http/MalformedRequestSweepTests.cs throws a fixed list at every routed endpoint in process; this
/// item generates its requests from the published contract instead.)
/// </summary>
[Trait("Battery", "7")]
[Collection(ServerUnderTest.Collection)]
public sealed partial class FuzzingTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;

    /// <summary>Generous, so that only growth without bound fails it on a loaded machine.</summary>
    private const long MemoryBound = 400 * MiB;

    [Fact]
    public async Task EveryOperation_MutatedRequests_NeverAnswer5xx_AndTheServerStaysWithinMemory()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("CADRE_FUZZ_SEED"), CultureInfo.InvariantCulture, out var given) ? given : Random.Shared.Next();
        var count = BatteryScale.Pick(2_000, 20_000);
        output.WriteLine($"seed {seed} (replay with CADRE_FUZZ_SEED={seed}), {count} requests");
        await using var server = await ServerUnderTest.StartAsync("fuzz");
        var document = JsonNode.Parse(await server.Admin.GetStringAsync("/openapi/v1.json"))!;
        var operations = Operations(document);
        operations.Count.ShouldBeGreaterThan(100);
        var ids = await SeedAsync(server, document);
        output.WriteLine($"{operations.Count} operations; real IDs for {string.Join(", ", ids.Keys.Order(StringComparer.Ordinal))}");
        var fuzzer = new Fuzzer(document, ids, server.Workspace);

        var failures = new List<string>();
        var byClass = new int[6];
        var covered = new HashSet<string>();
        var retries = 0;
        using var client = server.Process.Client(server.AdminKey);
        client.Timeout = Timeout.InfiniteTimeSpan;
        var start = server.ResidentBytes();
        await using (var sampler = new PeakSampler(server.ResidentBytes, TimeSpan.FromMilliseconds(100)))
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (index, _) =>
            {
                // Each request comes from its own generator, seeded by the run's seed and its index: any one replays alone.
                var random = new Random(HashCode.Combine(seed, index));
                var operation = operations[random.Next(operations.Count)];
                var fuzzed = fuzzer.Generate(operation, random);
                var (status, failure) = await SendAsync(client, fuzzed);
                var retried = false;
                if (status == 0)
                {
                    // A kept-alive connection the server closed after refusing an unread body can be reused by the client
                    // in the instant it closes (the response then "ends prematurely"): once more, on a connection of its own.
                    using var fresh = server.Process.Client(server.AdminKey);
                    (status, failure) = await SendAsync(fresh, fuzzed);
                    retried = true;
                }

                lock (failures)
                {
                    retries += retried ? 1 : 0;
                    covered.Add(operation.ToString());
                    byClass[Math.Clamp(status / 100, 0, 5)]++;
                    if (failure is not null)
                    {
                        failures.Add($"seed {seed} #{index} {operation} [{string.Join(", ", fuzzed.Mutations)}]: {fuzzed} → {failure}");
                    }
                }
            });
            var peak = sampler.Peak;
            var healthy = await server.IsHealthyAsync();
            var end = server.ResidentBytes();
            BatteryReport.Write(output, 7, "fuzzing every operation",
                ("requests", count), ("operations", covered.Count), ("2xx", byClass[2]), ("3xx", byClass[3]), ("4xx", byClass[4]), ("5xx", byClass[5]),
                ("failures", failures.Count), ("resent on a new connection", retries), ("RSS start MiB", start / MiB), ("RSS peak MiB", peak / MiB), ("RSS end MiB", end / MiB), ("seed", seed));

            failures.ShouldBeEmpty($"{failures.Count} failures:\n" + string.Join('\n', failures.Take(40)));
            byClass[2].ShouldBeGreaterThan(0, "some requests got through to a success: the IDs and bodies reach handler logic");
            healthy.ShouldBeTrue("the server process is alive and answers /healthz");
            (peak - start).ShouldBeLessThan(MemoryBound, $"resident memory grew from {start / MiB} MiB to {peak / MiB} MiB");
        }

        await (await server.Admin.GetAsync(server.WorkspacePath)).ShouldBeAsync(HttpStatusCode.OK);
    }

    /// <summary>Sends one request; answers its status and, if it broke the rules, what came back.</summary>
    private static async Task<(int Status, string? Failure)> SendAsync(HttpClient client, FuzzedRequest fuzzed)
    {
        using var request = new HttpRequestMessage(new HttpMethod(fuzzed.Method), fuzzed.Target);
        if (fuzzed.Body is not null)
        {
            request.Content = new ByteArrayContent(fuzzed.Body);
            if (fuzzed.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", fuzzed.ContentType);
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            // Headers only: a stream that answers 200 goes on for as long as the run (or workspace) lives.
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (status < 500 && (status < 400 || mediaType == "application/problem+json"))
            {
                return (status, null);
            }

            return (status, $"{status} {mediaType}: {Shorten(await response.Content.ReadAsStringAsync(timeout.Token))}");
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return (0, $"no answer: {ex.Message} {ex.InnerException?.Message}");
        }
    }

    /// <summary>Every operation the OpenAPI document publishes.</summary>
    private static List<Operation> Operations(JsonNode document)
    {
        var operations = new List<Operation>();
        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            var shared = item!["parameters"]?.AsArray().ToList() ?? [];
            foreach (var (method, operation) in item.AsObject())
            {
                if (method is not ("get" or "post" or "put" or "patch" or "delete"))
                {
                    continue;
                }

                var parameters = shared.Concat(operation!["parameters"]?.AsArray().ToList() ?? [])
                    .Select(p => new Parameter((string)p!["name"]!, (string)p["in"]!, p["schema"]))
                    .ToList();
                var content = operation["requestBody"]?["content"]?.AsObject();
                var mediaTypes = content?.Select(c => c.Key).ToList() ?? [];
                var schema = content is null ? null : (content["application/json"] ?? content.First().Value)?["schema"];
                operations.Add(new Operation(method.ToUpperInvariant(), template, parameters, mediaTypes, schema));
            }
        }

        return operations;
    }

    /// <summary>
    /// A workspace worth fuzzing: a persona, a workflow and its run, a webhook workflow, a pending file and keys by
    /// hand; then, for every collection with a POST and an item path, one resource created from a generated body.
    /// Answers each path parameter's real value.
    /// </summary>
    private static async Task<Dictionary<string, string>> SeedAsync(ServerUnderTest server, JsonNode document)
    {
        var admin = server.Admin;
        var w = server.WorkspacePath;
        var ids = new Dictionary<string, string>(StringComparer.Ordinal) { ["workspace"] = server.Workspace, ["version"] = "1", ["documentName"] = "v1" };
        var persona = await (await admin.PostAsync($"{w}/personas", Api.JsonContent(PersonaApi.Body("fuzz-persona")))).ReadObjectAsync();
        ids["persona"] = (string)persona["id"]!;
        var quick = WorkflowApi.Body("fuzz-flow");
        quick["steps"] = JsonNode.Parse("""[{"id": "only", "activity": {"uniqueIdentifier": "transform"}, "input": {"n": 1}}]""");
        var workflow = await (await admin.PostAsync($"{w}/workflows", Api.JsonContent(quick))).ReadObjectAsync();
        ids["workflow"] = (string)workflow["id"]!;
        var run = await (await admin.PostAsync($"{w}/workflows/fuzz-flow/runs", Api.JsonContent(new { }))).ReadObjectAsync();
        ids["run"] = (string)run["id"]!;
        var hook = WorkflowApi.Body("fuzz-hook");
        hook["steps"] = quick["steps"]!.DeepClone();
        hook["type"] = "webhook";
        hook["trigger"] = JsonNode.Parse("""{"webhook": {"mode": "async"}}""");
        await (await admin.PostAsync($"{w}/workflows", Api.JsonContent(hook))).ShouldBeAsync(HttpStatusCode.Created);
        await admin.PostAsync($"{w}/workflows/fuzz-hook/activate", null);
        ids["token"] = ((string)(await (await admin.GetAsync($"{w}/workflows/fuzz-hook/webhook-token")).ReadObjectAsync())["path"]!).Split('/')[^1];
        var upload = await (await admin.PostJsonAsync($"{w}/files/upload-url",
            new { name = "fuzz.txt", contentType = "text/plain", size = 16, sha256 = FileApi.Sha256(new byte[16]) })).ReadObjectAsync();
        ids["file"] = (string)upload["storageId"]!;
        var account = await (await admin.PostJsonAsync($"{w}/service-accounts", new { name = "fuzz-account", role = "viewer" })).ReadObjectAsync();
        if (account["id"] is { } accountId)
        {
            ids["serviceAccountId"] = (string)accountId!;
            await admin.PostJsonAsync($"{w}/service-accounts/{accountId}/api-keys", new { name = "fuzz-key" });
        }

        var keys = await (await admin.GetAsync($"{w}/api-keys")).ReadObjectAsync();
        if (keys["results"]?.AsArray().FirstOrDefault() is { } key)
        {
            ids["keyId"] = (string)key["id"]!;
        }

        // The rest generically: POST the collection with a generated body (a few tries), keep the ID (or name) the item path takes.
        var fuzzer = new Fuzzer(document, ids, server.Workspace);
        var operations = Operations(document);
        var random = new Random(7);
        foreach (var item in operations.Where(o => o.Method == "GET" && ItemParameter().Match(o.Template) is { Success: true }).OrderBy(o => o.Template.Length))
        {
            var parameter = ItemParameter().Match(item.Template).Groups[1].Value;
            var collection = item.Template[..item.Template.LastIndexOf('/')];
            if (ids.ContainsKey(parameter) || operations.FirstOrDefault(o => o.Method == "POST" && o.Template == collection) is not { BodySchema: not null } create)
            {
                continue;
            }

            for (var attempt = 0; attempt < 6 && !ids.ContainsKey(parameter); attempt++)
            {
                var body = fuzzer.ValidBody(create, random);
                var response = await admin.PostAsync(fuzzer.Fill(collection), new StringContent(body?.ToJsonString() ?? "{}", Encoding.UTF8, "application/json"));
                if (!response.IsSuccessStatusCode || await ObjectOrNullAsync(response) is not { } created)
                {
                    continue;
                }

                foreach (var candidate in new[] { created["id"], created["name"], created["type"], created["model"] }.OfType<JsonValue>().Select(v => v.ToString()))
                {
                    ids[parameter] = candidate;
                    if ((await admin.GetAsync(fuzzer.Fill(item.Template))).IsSuccessStatusCode)
                    {
                        break;
                    }

                    ids.Remove(parameter);
                }
            }
        }

        return ids;
    }

    private static async Task<JsonObject?> ObjectOrNullAsync(HttpResponseMessage response)
    {
        try
        {
            return JsonNode.Parse(await response.Content.ReadAsStringAsync()) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    [GeneratedRegex(@"\{(\w+)\}$")]
    private static partial Regex ItemParameter();

    private sealed record Parameter(string Name, string In, JsonNode? Schema);

    private sealed record Operation(string Method, string Template, IReadOnlyList<Parameter> Parameters, IReadOnlyList<string> MediaTypes, JsonNode? BodySchema)
    {
        public override string ToString() => $"{Method} {Template}";
    }

    private sealed record FuzzedRequest(string Method, string Target, string? ContentType, byte[]? Body, IReadOnlyList<string> Mutations)
    {
        public override string ToString() =>
            $"{Method} {Shorten(Target)} ({ContentType ?? "no content type"}) {(Body is null ? "no body" : Shorten(Encoding.UTF8.GetString(Body)))}";
    }

    /// <summary>Builds a valid-ish request for an operation from its schema, then breaks it in one to three ways.</summary>
    private sealed partial class Fuzzer(JsonNode document, IReadOnlyDictionary<string, string> ids, string workspace)
    {
        private static readonly string[] RawNumbers =
        [
            "1e400", "-1e400", "18446744073709551616", "-9223372036854775809", "-0", "1.5", "0.0000000000000000000000000001",
            "123456789012345678901234567890", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "NaN", "0x10", "1e", "--1", "+1",
        ];

        private static readonly string[] ContentTypes =
        [
            "text/plain", "application/xml", "application/json; charset=utf-16", "application/json; charset=bogus", "multipart/form-data",
            "application/x-www-form-urlencoded", "garbage", "*/*", "application/merge-patch+json", "text/csv", "application/yaml",
        ];

        private static readonly string[] BadIds =
        [
            "x_unknown", "%C3%28", "%2e%2e", "%20", "-1", "0", "99999999999999999999", "%C3%BC", "%FF", "run_0190aaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa",
            "per_", "UPPER", "a%2Fb", "%3Cscript%3E", "'%20OR%201=1--",
        ];

        private static readonly string[] BadQueryValues =
        [
            "", "abc", "-1", "0", "99999999999999999999", "%FF", "1e400", "null", "true", "%00", "2026-13-45T99:99:99Z", "%22%20OR%20*", "-",
        ];

        private static readonly string[] Mutations =
        [
            "nulls", "wrong type", "huge number", "unknown enum", "long string", "unknown member", "deep nesting", "duplicate key",
            "whole body", "truncated", "invalid UTF-8", "content type", "no content type", "path id", "query",
        ];

        public string Fill(string template) => PathParameter().Replace(template, m => ids.GetValueOrDefault(m.Groups[1].Value) ?? $"{m.Groups[1].Value}_unknown");

        public JsonNode? ValidBody(Operation operation, Random random)
        {
            var body = Value(operation.BodySchema, random, null, 0);
            // The workspace's own name stays: a rename would move every other request's path away from it.
            if (operation.Template == "/api/v1/workspaces/{workspace}" && body is JsonObject update && update.ContainsKey("name"))
            {
                update["name"] = workspace;
            }

            return body;
        }

        public FuzzedRequest Generate(Operation operation, Random random)
        {
            var chosen = new List<string>();
            var mutationCount = random.NextDouble() < 0.1 ? 0 : random.Next(1, 4);
            for (var i = 0; i < mutationCount; i++)
            {
                chosen.Add(Mutations[random.Next(Mutations.Length)]);
            }

            // Deletions never take a real ID last: deleting what the rest of the run needs would stop it reaching handler logic.
            if (operation.Method == "DELETE" && !chosen.Contains("path id"))
            {
                chosen.Add("path id");
            }

            var path = PathParameter().Replace(operation.Template, match =>
            {
                var name = match.Groups[1].Value;
                var last = match.Index + match.Length == operation.Template.Length;
                if (!chosen.Contains("path id") || (!last && random.Next(3) != 0))
                {
                    return ids.GetValueOrDefault(name) ?? $"{name}_unknown";
                }

                // A dot segment is resolved by the client before sending: DELETE …/members/%2e%2e deletes the workspace itself.
                var bad = BadIds[random.Next(BadIds.Length)];
                return operation.Method == "DELETE" && bad == "%2e%2e" ? "x_unknown" : bad;
            });
            var query = Query(operation, random, chosen.Contains("query"));

            var raws = new Dictionary<string, string>(StringComparer.Ordinal);
            byte[]? body = null;
            string? contentType = null;
            if (operation.BodySchema is not null || random.Next(20) == 0)
            {
                var node = ValidBody(operation, random);
                foreach (var mutation in chosen)
                {
                    node = MutateNode(node, mutation, random, raws);
                }

                var text = node?.ToJsonString() ?? "null";
                foreach (var (marker, raw) in raws)
                {
                    text = text.Replace($"\"{marker}\"", raw, StringComparison.Ordinal);
                }

                body = Encoding.UTF8.GetBytes(text);
                contentType = operation.MediaTypes.Count > 0 ? operation.MediaTypes[random.Next(operation.MediaTypes.Count)] : "application/json";
                foreach (var mutation in chosen)
                {
                    (body, contentType) = MutateBytes(body, contentType, mutation, random);
                }
            }

            return new FuzzedRequest(operation.Method, path + query, contentType, body, chosen);
        }

        private string Query(Operation operation, Random random, bool mutate)
        {
            var pairs = new List<string>();
            foreach (var parameter in operation.Parameters.Where(p => p.In == "query"))
            {
                if (random.Next(3) != 0)
                {
                    continue;
                }

                var value = mutate && random.Next(2) == 0 ? BadQueryValues[random.Next(BadQueryValues.Length)] : Uri.EscapeDataString(Value(parameter.Schema, random, parameter.Name, 0)?.ToString() ?? "");
                pairs.Add($"{parameter.Name}={value}");
            }

            if (mutate)
            {
                pairs.Add(random.Next(2) == 0 ? $"unknown{random.Next(100)}=1" : $"limit={BadQueryValues[random.Next(BadQueryValues.Length)]}&limit=2");
            }

            return pairs.Count == 0 ? "" : "?" + string.Join('&', pairs);
        }

        private static JsonNode? MutateNode(JsonNode? root, string mutation, Random random, Dictionary<string, string> raws)
        {
            string Raw(string text)
            {
                var marker = $"@@RAW{raws.Count}@@";
                raws[marker] = text;
                return marker;
            }

            switch (mutation)
            {
                case "nulls":
                    return Nulls(root, random);
                case "wrong type":
                    JsonNode?[] others = [1, "text", true, new JsonArray(), new JsonObject(), new JsonArray(1, "a", null), new JsonObject { ["a"] = null }, -1.5];
                    return Replace(root, random, _ => others[random.Next(others.Length)]?.DeepClone());
                case "huge number":
                    return Replace(root, random, _ => Raw(RawNumbers[random.Next(RawNumbers.Length)]));
                case "unknown enum":
                    string[] bogus = ["BOGUS", "", " ", "Viewer", "ÿ", "\u0000", "owner ", "-1"];
                    return Replace(root, random, node => node is JsonValue v && v.TryGetValue<string>(out _) ? bogus[random.Next(bogus.Length)] : node?.DeepClone(), onlyStrings: true);
                case "long string":
                    var length = random.Next(4) == 0 ? random.Next(100_000, 300_000) : random.Next(200, 5_000);
                    var text = random.Next(2) == 0 ? new string('a', length) : string.Concat(Enumerable.Repeat("é😀\u202e", length / 4));
                    return Replace(root, random, _ => text, onlyStrings: random.Next(2) == 0);
                case "unknown member":
                    string[] names = ["__proto__", "$type", "constructor", "unknown", "", "$ref", "id", "createdAt", "version"];
                    foreach (var target in Nodes(root).Select(n => n.Node).OfType<JsonObject>().Take(3))
                    {
                        target[names[random.Next(names.Length)]] = random.Next(2) == 0 ? "System.IO.FileInfo, System.IO" : new JsonObject { ["x"] = 1 };
                    }

                    return root;
                case "deep nesting":
                    var depth = new[] { 33, 64, 65, 129, 1_000, 10_000 }[random.Next(6)];
                    var nested = random.Next(2) == 0
                        ? new string('[', depth) + new string(']', depth)
                        : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
                    return Replace(root, random, _ => Raw(nested));
                case "duplicate key":
                    if (Nodes(root).Select(n => n.Node).OfType<JsonObject>().Where(o => o.Count > 0).ToList() is { Count: > 0 } objects)
                    {
                        var target = objects[random.Next(objects.Count)];
                        var key = target.ElementAt(random.Next(target.Count)).Key;
                        target[Raw(System.Text.Json.JsonSerializer.Serialize(key))] = random.Next(2) == 0 ? null : "duplicate";
                    }

                    return root;
                case "whole body":
                    string[] wholes = ["null", "[]", "\"text\"", "1", "true", "{}", "[{}]", "{\"\":\"\"}"];
                    return Raw(wholes[random.Next(wholes.Length)]);
                default:
                    return root;
            }
        }

        private static (byte[] Body, string? ContentType) MutateBytes(byte[] body, string? contentType, string mutation, Random random)
        {
            switch (mutation)
            {
                case "truncated":
                    return (body[..random.Next(body.Length + 1)], contentType);
                case "invalid UTF-8":
                    byte[][] invalid = [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF0, 0x28, 0x8C, 0x28], [0xC0, 0xAF], [0xEF, 0xBB, 0xBF]];
                    var bytes = invalid[random.Next(invalid.Length)];
                    var quote = Array.IndexOf(body, (byte)'"', random.Next(body.Length + 1));
                    var at = quote < 0 ? random.Next(body.Length + 1) : quote + 1;
                    return ([.. body[..at], .. bytes, .. body[at..]], contentType);
                case "content type":
                    return (body, ContentTypes[random.Next(ContentTypes.Length)]);
                case "no content type":
                    return (body, null);
                default:
                    return (body, contentType);
            }
        }

        /// <summary>A random node (or the root) replaced by what <paramref name="replace"/> makes of it.</summary>
        private static JsonNode? Replace(JsonNode? root, Random random, Func<JsonNode?, JsonNode?> replace, bool onlyStrings = false)
        {
            var nodes = Nodes(root).Where(n => !onlyStrings || (n.Node is JsonValue v && v.TryGetValue<string>(out _))).ToList();
            if (nodes.Count == 0)
            {
                return onlyStrings ? root : replace(root);
            }

            var (node, parent, key, index) = nodes[random.Next(nodes.Count)];
            var replacement = replace(node);
            switch (parent)
            {
                case JsonObject o:
                    o[key!] = replacement;
                    return root;
                case JsonArray a:
                    a[index] = replacement;
                    return root;
                default:
                    return replacement;
            }
        }

        private static JsonNode? Nulls(JsonNode? node, Random random)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var key in o.Select(p => p.Key).ToList())
                    {
                        var child = o[key];
                        o[key] = null;
                        o[key] = random.Next(3) == 0 ? Nulls(child, random) : null;
                    }

                    return o;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        a[i] = null;
                    }

                    return a;
                default:
                    return null;
            }
        }

        private static List<(JsonNode? Node, JsonNode? Parent, string? Key, int Index)> Nodes(JsonNode? root)
        {
            var found = new List<(JsonNode?, JsonNode?, string?, int)> { (root, null, null, -1) };
            for (var i = 0; i < found.Count; i++)
            {
                switch (found[i].Item1)
                {
                    case JsonObject o:
                        found.AddRange(o.Select(p => (p.Value, (JsonNode?)o, (string?)p.Key, -1)));
                        break;
                    case JsonArray a:
                        found.AddRange(a.Select((v, index) => (v, (JsonNode?)a, (string?)null, index)));
                        break;
                }
            }

            return found;
        }

        /// <summary>A value the schema allows, with names, e-mails, URLs and durations where the property's name asks for them.</summary>
        private JsonNode? Value(JsonNode? schema, Random random, string? property, int depth)
        {
            while (schema is JsonObject { } withRef && withRef["$ref"] is JsonValue reference)
            {
                schema = document["components"]!["schemas"]![((string)reference!).Split('/')[^1]];
            }

            if (schema is not JsonObject s || depth > 8)
            {
                return "x";
            }

            if ((s["oneOf"] ?? s["anyOf"]) is JsonArray alternatives
                && alternatives.Where(a => a?["type"]?.ToString() != "null").ToList() is { Count: > 0 } options)
            {
                return Value(options[random.Next(options.Count)], random, property, depth);
            }

            if (s["enum"] is JsonArray { Count: > 0 } values)
            {
                return values[random.Next(values.Count)]?.DeepClone();
            }

            List<string> types = s["type"] switch
            {
                JsonArray many => many.Select(t => t!.ToString()).ToList(),
                JsonValue one => [one.ToString()],
                _ => [],
            };
            var type = types.FirstOrDefault(t => t != "null") ?? (s["properties"] is not null ? "object" : s["items"] is not null ? "array" : "any");
            switch (type)
            {
                case "object":
                    var result = new JsonObject();
                    var required = s["required"]?.AsArray().Select(r => r!.ToString()).ToHashSet() ?? [];
                    foreach (var (name, propertySchema) in s["properties"]?.AsObject() ?? [])
                    {
                        if (required.Contains(name) || random.NextDouble() < 0.7)
                        {
                            result[name] = Value(propertySchema, random, name, depth + 1);
                        }
                    }

                    if (result.Count == 0 && s["additionalProperties"] is JsonObject extra)
                    {
                        result["key"] = Value(extra, random, "key", depth + 1);
                    }

                    return result;
                case "array":
                    return depth > 6 ? new JsonArray() : new JsonArray(Value(s["items"], random, property, depth + 1));
                case "string":
                    return Text(property, s["format"]?.ToString(), random);
                case "integer":
                    return 1;
                case "number":
                    return 1.5;
                case "boolean":
                    return true;
                default:
                    return new JsonObject { ["a"] = 1 };
            }
        }

        private string Text(string? property, string? format, Random random)
        {
            var name = property?.ToLowerInvariant() ?? "";
            return name switch
            {
                _ when property is not null && ids.TryGetValue(property, out var id) => id,
                _ when format == "date-time" => DateTimeOffset.UtcNow.AddHours(1).ToString("O", CultureInfo.InvariantCulture),
                _ when name.Contains("email", StringComparison.Ordinal) => $"fuzz{random.Next(100_000)}@example.com",
                _ when name.Contains("url", StringComparison.Ordinal) || name.Contains("uri", StringComparison.Ordinal) => "https://example.com/fuzz",
                "name" or "slug" => $"fz-{random.Next(1_000_000)}",
                "sha256" => new string('0', 64),
                "contenttype" => "text/plain",
                "role" => "viewer",
                "password" => "correct horse battery staple",
                _ when name.Contains("timeout", StringComparison.Ordinal) || name.Contains("interval", StringComparison.Ordinal) || name.Contains("period", StringComparison.Ordinal) => "1m",
                _ => "x",
            };
        }

        [GeneratedRegex(@"\{(\w+)\}")]
        private static partial Regex PathParameter();
    }
}
