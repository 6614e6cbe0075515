"""`Picture`: a drawn graph (nodes with labels, edges with labels, boxed clusters), as DOT
source, as an SVG/PNG/PDF image, or as text.

`keras.utils.plot_model` draws models with it, and `tapeflow.export` draws tapes and traced
functions (it lives here, below both, because keras sits below export in the layers). The
`graphviz` Python package writes the DOT source; images need Graphviz's `dot` program, and
where it is missing the picture renders as text (`str(picture)`, `.txt` files), so a
student without Graphviz still sees the graph. In Jupyter, `_repr_svg_` draws it inline.
"""
import os
import shutil
import subprocess

from tapeflow.keras.saving.atomic import write_bytes

_IMAGE_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "gif", "ps", "eps")


def has_dot():
    """Whether Graphviz's `dot` program is installed (images need it)."""
    return shutil.which("dot") is not None


class Picture:
    """Nodes (id, text label, optional HTML-like label, DOT attributes) and edges, in the
    order they were added (a topological order, for the text rendering)."""

    def __init__(self, name="G", **graph_attrs):
        self.name = name
        self.graph_attrs = {k: str(v) for k, v in graph_attrs.items() if v is not None}
        self.node_attrs = {}
        self.nodes = {}      # id -> (text, html, attrs, cluster)
        self.edges = []      # (src, dst, text, attrs)
        self.clusters = {}   # name -> label

    # -- building -------------------------------------------------------------------------------
    def node(self, node_id, text, html=None, cluster=None, **attrs):
        """Adds (or replaces) a node; `text` may hold several lines."""
        self.nodes[str(node_id)] = (text, html, {k: str(v) for k, v in attrs.items()}, cluster)

    def edge(self, src, dst, text=None, **attrs):
        self.edges.append((str(src), str(dst), text, {k: str(v) for k, v in attrs.items()}))

    def cluster(self, name, label):
        self.clusters[name] = label

    def label(self, node_id):
        return self.nodes[str(node_id)][0]

    def incoming(self, node_id):
        return [(s, t) for s, d, t, _ in self.edges if d == str(node_id)]

    # -- DOT ---------------------------------------------------------------------------------------
    @property
    def source(self):
        """The DOT source (needs the `graphviz` Python package)."""
        try:
            import graphviz
        except ImportError:
            raise ImportError("Drawing graphs needs the `graphviz` Python package: "
                              "`pip install graphviz` (and Graphviz's `dot` program for "
                              "images).") from None
        dot = graphviz.Digraph(self.name, graph_attr=self.graph_attrs,
                               node_attr=self.node_attrs)
        subgraphs = {}
        for name, label in self.clusters.items():
            sub = subgraphs[name] = graphviz.Digraph("cluster_" + name)
            sub.attr(label=label, style="dashed", labeljust="l")
        for node_id, (text, html, attrs, cluster) in self.nodes.items():
            label = f"<{html}>" if html is not None else _escape(text)
            (subgraphs[cluster] if cluster in subgraphs else dot).node(node_id, label, **attrs)
        for sub in subgraphs.values():
            dot.subgraph(sub)
        for src, dst, text, attrs in self.edges:
            dot.edge(src, dst, label=None if text is None else _escape(text), **attrs)
        return dot.source

    def to_string(self):
        """The DOT source (pydot's name for it, which Keras's `model_to_dot` returns)."""
        return self.source

    # -- images ------------------------------------------------------------------------------------
    def create(self, format="svg"):  # noqa: A002 - pydot's argument name
        """The picture as image bytes, drawn by Graphviz's `dot`."""
        if not has_dot():
            raise ImportError("You must install graphviz (see instructions at "
                              "https://graphviz.gitlab.io/download/) for images; without it "
                              "a picture is DOT source (`.source`, `.dot` files) or text "
                              "(`str(picture)`, `.txt` files).")
        done = subprocess.run(["dot", f"-T{format}"], input=self.source.encode(),
                              capture_output=True, check=False)
        if done.returncode:
            raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def write(self, path, format=None):  # noqa: A002 - pydot's argument name
        """Writes the picture (atomically): `.dot`/`.gv` as DOT source, `.txt` as text, image
        formats through Graphviz's `dot`."""
        path = os.fspath(path)
        format = (format or os.path.splitext(path)[1][1:] or "png").lower()
        if format in ("dot", "gv", "raw"):
            data = self.source.encode()
        elif format in ("txt", "text"):
            data = self.text().encode()
        elif format in _IMAGE_FORMATS:
            data = self.create(format)
        else:
            raise ValueError(f"Unknown picture format {format!r}: expected one of "
                             f"{['dot', 'txt', *_IMAGE_FORMATS]}.")
        write_bytes(path, data)
        return path

    def _repr_svg_(self):
        """Jupyter's inline drawing; None (text is shown instead) without Graphviz."""
        if not has_dot():
            return None
        return self.create("svg").decode()

    # -- text --------------------------------------------------------------------------------------
    def text(self):
        """Each node on a line, in order, with the nodes it comes from below it."""
        lines = []
        for node_id, (text, _, _, cluster) in self.nodes.items():
            prefix = f"[{self.clusters[cluster]}] " if cluster in self.clusters else ""
            lines.append(prefix + " | ".join(text.splitlines()))
            for src, edge_text in self.incoming(node_id):
                first = self.nodes[src][0].splitlines()[0] if src in self.nodes else src
                lines.append(f"    <- {first}" + (f"   ({edge_text})" if edge_text else ""))
        return "\n".join(lines)

    def __str__(self):
        return self.text()

    def __repr__(self):
        return f"<Picture {self.name}: {len(self.nodes)} nodes, {len(self.edges)} edges>\n" + \
            self.text()


def _escape(text):
    """A plain label for DOT: backslashes and quotes escaped, lines as DOT's `\\n`."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return "\\n".join(text.splitlines()) if "\n" in text else text
