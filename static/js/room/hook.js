// Live rooms (room/*.js) load only when wanted: a join link, a room this tab is in, the Live button.
const live = () => import('./boot.js');
if (location.hash.includes('join=') || sessionStorage.getItem('convviz.room')) live().then((m) => m.start());
for (const b of document.querySelectorAll('[data-room-open]')) b.addEventListener('click', () => live().then((m) => m.lead()));
