// GraphiQL at /graphiql.html: this entry is a few hundred bytes; the IDE (GraphiQL, React,
// CodeMirror, their CSS: about 1.2 MB) is a dynamically imported chunk, fetched only when this
// page opens, so no other page's bundle carries or preloads it.
import "./graphiql.css";

const host = document.getElementById("graphiql");
if (host) {
  host.setAttribute("aria-busy", "true");
  import("./ide")
    .then(({ mount }) => mount(host))
    .catch(() => {
      host.textContent = "GraphiQL could not load; reload the page. / Rechargez la page.";
    })
    .finally(() => host.removeAttribute("aria-busy"));
}
