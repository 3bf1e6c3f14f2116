#include "core/graph.h"

#include <unordered_set>

#include "inferd/error.h"

namespace inferd {

std::string Node::label() const {
  return name.empty() ? op_type + " node (unnamed)" : op_type + " node '" + name + "'";
}

ValueId Graph::value_id(const std::string& value_name) {
  auto [it, inserted] = value_index.try_emplace(value_name, static_cast<ValueId>(values.size()));
  if (inserted) {
    Value v;
    v.name = value_name;
    values.push_back(std::move(v));
  }
  return it->second;
}

const Tensor* Graph::constant(ValueId id) const {
  auto it = constants.find(id);
  return it == constants.end() ? nullptr : &it->second;
}

void Graph::index_producers() {
  for (Value& v : values) v.producer = -1;
  for (size_t n = 0; n < nodes.size(); ++n)
    for (ValueId out : nodes[n].outputs)
      if (out != kNoValue) value(out).producer = static_cast<int>(n);
}

void Graph::sort_topologically() {
  // Kahn's algorithm over "value ready" events; keeps the file's order among ready nodes so that
  // error messages and profiles follow the model as written.
  const size_t n = nodes.size();
  std::vector<char> ready(values.size(), 0);
  for (ValueId id : inputs) ready[static_cast<size_t>(id)] = 1;
  for (const auto& [id, tensor] : constants) ready[static_cast<size_t>(id)] = 1;

  std::vector<int> producer(values.size(), -1);
  for (size_t i = 0; i < n; ++i)
    for (ValueId out : nodes[i].outputs) {
      if (out == kNoValue) continue;
      if (producer[static_cast<size_t>(out)] != -1 || ready[static_cast<size_t>(out)])
        fail(ErrorKind::invalid_model, nodes[i].label(), ": output '", value(out).name,
             "' is already written by another node, an input or an initializer");
      producer[static_cast<size_t>(out)] = static_cast<int>(i);
    }

  std::vector<int> missing(n, 0);
  std::vector<std::vector<int>> consumers(values.size());
  for (size_t i = 0; i < n; ++i)
    for (ValueId in : nodes[i].inputs) {
      if (in == kNoValue || ready[static_cast<size_t>(in)]) continue;
      if (producer[static_cast<size_t>(in)] == -1)
        fail(ErrorKind::invalid_model, nodes[i].label(), ": input '", value(in).name,
             "' is not a graph input, an initializer or any node's output");
      ++missing[i];
      consumers[static_cast<size_t>(in)].push_back(static_cast<int>(i));
    }

  std::vector<Node> ordered;
  ordered.reserve(n);
  std::vector<int> queue;
  for (size_t i = 0; i < n; ++i)
    if (missing[i] == 0) queue.push_back(static_cast<int>(i));
  for (size_t head = 0; head < queue.size(); ++head) {
    const int i = queue[head];
    for (ValueId out : nodes[static_cast<size_t>(i)].outputs) {
      if (out == kNoValue) continue;
      for (int c : consumers[static_cast<size_t>(out)])
        if (--missing[static_cast<size_t>(c)] == 0) queue.push_back(c);
    }
  }
  if (queue.size() != n) {
    for (size_t i = 0; i < n; ++i)
      if (missing[i] != 0) fail(ErrorKind::invalid_model, nodes[i].label(), " is part of a cycle");
  }
  for (int i : queue) ordered.push_back(std::move(nodes[static_cast<size_t>(i)]));
  nodes = std::move(ordered);
  index_producers();
}

std::vector<const Graph*> subgraphs_of(const Node& node) {
  std::vector<const Graph*> out;
  for (const Attribute& a : node.attributes.items())
    if (a.g) out.push_back(a.g.get());
  return out;
}

std::vector<std::string> outer_references(const Graph& graph) {
  std::vector<char> defined(graph.values.size(), 0);
  for (ValueId id : graph.inputs) defined[static_cast<size_t>(id)] = 1;
  for (const auto& [id, tensor] : graph.constants) defined[static_cast<size_t>(id)] = 1;
  for (const Node& node : graph.nodes)
    for (ValueId id : node.outputs)
      if (id != kNoValue) defined[static_cast<size_t>(id)] = 1;

  std::vector<std::string> names;
  std::unordered_set<std::string> listed;
  auto use = [&](const std::string& name) {
    auto it = graph.value_index.find(name);
    if (it != graph.value_index.end() && defined[static_cast<size_t>(it->second)]) return;
    if (listed.insert(name).second) names.push_back(name);
  };
  for (const Node& node : graph.nodes) {
    for (ValueId id : node.inputs)
      if (id != kNoValue) use(graph.value(id).name);
    for (const Graph* sub : subgraphs_of(node))
      for (const std::string& name : outer_references(*sub)) use(name);
  }
  for (ValueId id : graph.outputs) use(graph.value(id).name);
  return names;
}

int64_t OnnxModel::onnx_opset() const {
  auto it = opsets.find("");
  return it == opsets.end() ? 1 : it->second;
}

}  // namespace inferd
