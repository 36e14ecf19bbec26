// Mounts GraphiQL on the page served at / and /graphiql. It lives in a file rather than in
// the page so that the page's Content-Security-Policy can forbid inline scripts.
//
// Queries go to /graphql, subscriptions to ws(s)://<this host>/graphql. The headers editor
// is open so a token can be pasted as {"Authorization": "Bearer <token>"}; no header is
// preset, so tokens never travel in the page.
(function () {
  'use strict';
  var endpoint = '/graphql';
  function createUrl(path, subscription) {
    var url = new URL(path, window.location.origin);
    if (subscription) {
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    }
    return url.toString();
  }
  var fetcher = GraphiQL.createFetcher({
    url: createUrl(endpoint, false),
    subscriptionUrl: createUrl(endpoint, true),
    fetch: function (url, opts) {
      return fetch(url, Object.assign({}, opts || {}, { credentials: 'same-origin' }));
    },
  });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
    })
  );
})();
