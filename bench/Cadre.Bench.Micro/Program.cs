using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Cadre.Bench.Micro -- --filter '*'   (or bench/micro.sh)
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
