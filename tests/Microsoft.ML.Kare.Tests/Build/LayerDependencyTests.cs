using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Microsoft.ML.Kare.Tests.Build;

/// <summary>
/// The folders of each source assembly form layers: the graph of "a type in folder A uses a type in folder B" has no
/// cycle. Each type is placed in its folder by the source file that declares it (type names are unique within an
/// assembly); the uses are read from the built assembly's metadata and IL with Mono.Cecil: base types, interfaces,
/// fields, properties, events, signatures, attributes, generic arguments, local variables and every instruction's
/// type, method or field operand. Compiler-generated nested types (lambdas' closures, iterators, async state machines)
/// count as their declaring type. The edges are printed, so the test output shows the layering.
/// </summary>
[TestClass]
public sealed class LayerDependencyTests
{
    /// <summary>The node of the files at the root of an assembly's project folder.</summary>
    private const string RootNode = "(root)";

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("Microsoft.ML.Kare")]
    [DataRow("Microsoft.ML.Kare.Trainers")]
    public void FolderDependenciesHaveNoCycle(string assemblyName)
    {
        string projectFolder = Path.Combine(BuildTestSupport.RepositoryRoot(), "src", assemblyName);
        Dictionary<string, SortedSet<string>> folders = DeclaredTypeFolders(projectFolder);
        var (nodes, edges) = FolderGraph(Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll"), folders);

        var report = new StringBuilder($"{assemblyName}: folders {string.Join(", ", nodes)}; {edges.Count} edges (folder → folder it uses: user → used types)\n");
        foreach (var ((from, to), uses) in edges.OrderBy(e => e.Key.From, StringComparer.Ordinal).ThenBy(e => e.Key.To, StringComparer.Ordinal))
            report.AppendLine($"  {from} → {to}: {string.Join(", ", uses.Take(6))}{(uses.Count > 6 ? $", … ({uses.Count} uses)" : "")}");
        TestContext.WriteLine(report.ToString());

        List<string>? cycle = FindCycle(edges.Keys);
        if (cycle is not null)
        {
            var message = new StringBuilder($"{assemblyName}: the folders depend on each other in a cycle: {string.Join(" → ", cycle)}.\n");
            for (int i = 0; i + 1 < cycle.Count; i++)
                message.AppendLine($"  {cycle[i]} → {cycle[i + 1]}: {string.Join(", ", edges[(cycle[i], cycle[i + 1])])}");
            Assert.Fail(message.ToString());
        }
    }

    [TestMethod]
    public void TheCycleFinderFindsACycle()
    {
        // The check itself must be able to fail.
        Assert.IsNull(FindCycle(new[] { ("A", "B"), ("B", "C"), ("A", "C") }));
        List<string>? cycle = FindCycle(new[] { ("A", "B"), ("B", "C"), ("C", "A"), ("C", "D") });
        Assert.IsNotNull(cycle);
        Assert.AreEqual(cycle[0], cycle[^1], "a closed path");
        CollectionAssert.AreEquivalent(new[] { "A", "B", "C" }, cycle.Skip(1).ToArray());
    }

    /// <summary>Declaration keywords after any modifiers at the start of a line (doc comments and strings do not match).</summary>
    private static readonly Regex Declaration = new(
        @"^\s*(?:(?:public|internal|private|protected|static|sealed|abstract|readonly|partial|file|unsafe|new|ref)\s+)*" +
        @"(?:(?:class|struct|interface|enum)\s+(?<name>\w+)|record(?:\s+(?:struct|class))?\s+(?<name>\w+)|delegate\s+[\w<>\[\]?,.\s]+?\s(?<name>\w+)\s*[<(])",
        RegexOptions.Compiled);

    /// <summary>
    /// Every type name declared in the project's sources (nested ones too) → the folders of the files that declare it,
    /// relative to the project ("(root)" for the project folder itself). Nested types may share a name across folders
    /// (they are placed by their outermost type); a top-level name in two folders fails the lookup.
    /// </summary>
    private static Dictionary<string, SortedSet<string>> DeclaredTypeFolders(string projectFolder)
    {
        var folders = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(projectFolder, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(projectFolder, Path.GetDirectoryName(file)!).Replace('\\', '/');
            if (relative.Split('/').Any(part => part is "bin" or "obj"))
                continue;
            string folder = relative == "." ? RootNode : relative;
            foreach (string line in File.ReadLines(file))
            {
                Match match = Declaration.Match(line);
                if (!match.Success)
                    continue;
                string name = match.Groups["name"].Value;
                if (!folders.TryGetValue(name, out SortedSet<string>? set))
                    folders[name] = set = new SortedSet<string>(StringComparer.Ordinal);
                set.Add(folder);
            }
        }
        Assert.IsNotEmpty(folders, $"No type declarations found under {projectFolder}.");
        return folders;
    }

    /// <summary>The folders of the assembly's types, and the folder → folder edges, each with the "user → used" type pairs behind it.</summary>
    private static (SortedSet<string> Nodes, Dictionary<(string From, string To), SortedSet<string>> Edges) FolderGraph(string assemblyPath,
        Dictionary<string, SortedSet<string>> folders)
    {
        using ModuleDefinition module = ModuleDefinition.ReadModule(assemblyPath);
        var nodes = new SortedSet<string>(StringComparer.Ordinal);
        var edges = new Dictionary<(string, string), SortedSet<string>>();
        var unplaced = new SortedSet<string>(StringComparer.Ordinal);
        var ambiguous = new SortedSet<string>(StringComparer.Ordinal);

        string? FolderOf(TypeDefinition type)
        {
            TypeDefinition outer = Outermost(type);
            if (folders.TryGetValue(StripArity(outer.Name), out SortedSet<string>? candidates))
            {
                if (candidates.Count == 1)
                    return candidates.Min;
                ambiguous.Add($"{outer.FullName} ({string.Join(", ", candidates)})");
                return null;
            }
            if (!IsCompilerOrBuildSupport(outer))
                unplaced.Add(outer.FullName);
            return null;
        }

        foreach (TypeDefinition type in module.GetTypes())
        {
            string? from = FolderOf(type);
            if (from is null)
                continue;
            nodes.Add(from);
            string user = Outermost(type).Name;
            foreach (TypeDefinition used in References(type, module))
            {
                string? to = FolderOf(used);
                if (to is null || to == from)
                    continue;
                if (!edges.TryGetValue((from, to), out SortedSet<string>? pairs))
                    edges[(from, to)] = pairs = new SortedSet<string>(StringComparer.Ordinal);
                pairs.Add($"{StripArity(user)} → {StripArity(Outermost(used).Name)}");
            }
        }
        Assert.IsEmpty(unplaced, "Types of the assembly whose source file was not found in its project folder: " + string.Join(", ", unplaced));
        Assert.IsEmpty(ambiguous, "Top-level types whose name is declared in several folders (the test places types by name): " + string.Join(", ", ambiguous));
        return (nodes, edges);
    }

    /// <summary>The types of <paramref name="module"/> that <paramref name="type"/>'s own definition and code use.</summary>
    private static IEnumerable<TypeDefinition> References(TypeDefinition type, ModuleDefinition module)
    {
        var found = new HashSet<TypeDefinition>();

        void Add(TypeReference? reference)
        {
            switch (reference)
            {
                case null:
                case GenericParameter:
                    return;
                case GenericInstanceType generic:
                    Add(generic.ElementType);
                    foreach (TypeReference argument in generic.GenericArguments)
                        Add(argument);
                    return;
                case FunctionPointerType pointer:
                    Add(pointer.ReturnType);
                    foreach (ParameterDefinition parameter in pointer.Parameters)
                        Add(parameter.ParameterType);
                    return;
                case TypeSpecification specification: // arrays, by-reference, pointers, pinned, modifiers
                    Add(specification.ElementType);
                    return;
            }
            if (reference.Scope == module || reference.Module == module && reference is TypeDefinition)
            {
                if (reference.Resolve() is TypeDefinition definition && definition.Module == module)
                    found.Add(definition);
            }
        }

        void AddMethod(MethodReference? method)
        {
            if (method is null)
                return;
            Add(method.DeclaringType);
            if (method is GenericInstanceMethod generic)
            {
                foreach (TypeReference argument in generic.GenericArguments)
                    Add(argument);
            }
        }

        void AddAttributes(ICustomAttributeProvider provider)
        {
            foreach (CustomAttribute attribute in provider.CustomAttributes)
            {
                AddMethod(attribute.Constructor);
                foreach (CustomAttributeArgument argument in attribute.ConstructorArguments.Concat(attribute.Properties.Select(p => p.Argument)).Concat(attribute.Fields.Select(f => f.Argument)))
                    Add(argument.Value as TypeReference);
            }
        }

        void AddGenericParameters(IGenericParameterProvider provider)
        {
            foreach (GenericParameter parameter in provider.GenericParameters)
            {
                foreach (GenericParameterConstraint constraint in parameter.Constraints)
                    Add(constraint.ConstraintType);
            }
        }

        Add(type.BaseType);
        foreach (InterfaceImplementation implementation in type.Interfaces)
            Add(implementation.InterfaceType);
        AddAttributes(type);
        AddGenericParameters(type);
        foreach (FieldDefinition field in type.Fields)
        {
            Add(field.FieldType);
            AddAttributes(field);
        }
        foreach (PropertyDefinition property in type.Properties)
        {
            Add(property.PropertyType);
            AddAttributes(property);
        }
        foreach (EventDefinition @event in type.Events)
            Add(@event.EventType);
        foreach (MethodDefinition method in type.Methods)
        {
            Add(method.ReturnType);
            foreach (ParameterDefinition parameter in method.Parameters)
                Add(parameter.ParameterType);
            foreach (MethodReference overridden in method.Overrides)
                AddMethod(overridden);
            AddAttributes(method);
            AddGenericParameters(method);
            if (!method.HasBody)
                continue;
            foreach (VariableDefinition variable in method.Body.Variables)
                Add(variable.VariableType);
            foreach (ExceptionHandler handler in method.Body.ExceptionHandlers)
                Add(handler.CatchType);
            foreach (Instruction instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference operand:
                        Add(operand);
                        break;
                    case MethodReference operand:
                        AddMethod(operand);
                        break;
                    case FieldReference operand:
                        Add(operand.DeclaringType);
                        Add(operand.FieldType);
                        break;
                }
            }
        }
        return found;
    }

    private static TypeDefinition Outermost(TypeDefinition type)
    {
        while (type.DeclaringType is TypeDefinition outer)
            type = outer;
        return type;
    }

    /// <summary>"Name`2" → "Name".</summary>
    private static string StripArity(string name) => name.IndexOf('`') is int tick and >= 0 ? name[..tick] : name;

    /// <summary>
    /// Top-level types with no source file in the project: the module type, types the compiler emits (names with '&lt;',
    /// or marked [CompilerGenerated], such as nullable and ref-safety attributes and anonymous types) and the
    /// IgnoresAccessChecksTo attribute compiled in from src/build.
    /// </summary>
    private static bool IsCompilerOrBuildSupport(TypeDefinition type)
        => type.Name.StartsWith('<')
           || type.CustomAttributes.Any(a => a.AttributeType.FullName is "System.Runtime.CompilerServices.CompilerGeneratedAttribute" or "Microsoft.CodeAnalysis.EmbeddedAttribute")
           || type.FullName is "Microsoft.CodeAnalysis.EmbeddedAttribute" or "System.Runtime.CompilerServices.IgnoresAccessChecksToAttribute";

    /// <summary>A cycle of the directed graph as a closed path (first node repeated at the end), or null.</summary>
    private static List<string>? FindCycle(IEnumerable<(string From, string To)> edges)
    {
        var successors = edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).OrderBy(t => t, StringComparer.Ordinal).ToList());
        var state = new Dictionary<string, int>(); // 1: on the current path, 2: done
        var path = new List<string>();

        List<string>? Visit(string node)
        {
            state[node] = 1;
            path.Add(node);
            foreach (string next in successors.GetValueOrDefault(node) ?? new List<string>())
            {
                if (state.GetValueOrDefault(next) == 1)
                    return path.Skip(path.IndexOf(next)).Append(next).ToList();
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is List<string> cycle)
                    return cycle;
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }

        foreach (string node in successors.Keys.OrderBy(n => n, StringComparer.Ordinal))
        {
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is List<string> cycle)
                return cycle;
        }
        return null;
    }
}
